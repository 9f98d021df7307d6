use super::*;

#[test]
fn turn_ttl_is_seconds_or_a_duration() {
    assert_eq!(parse_ttl("3600"), Ok(Duration::from_secs(3600)));
    assert_eq!(parse_ttl("1h"), Ok(Duration::from_secs(3600)));
    assert_eq!(parse_ttl(" 90m "), Ok(Duration::from_secs(5400)));
    assert!(parse_ttl("soon").is_err());
    for text in ["turn-ttl = 3600", "turn-ttl = \"1h\"", "turn-ttl = \"3600\""] {
        let file: Settings = toml::from_str(text).unwrap();
        assert_eq!(file.turn_ttl, Some(Duration::from_secs(3600)), "{text}");
    }
    assert!(toml::from_str::<Settings>("turn-ttl = \"soon\"").is_err());
    #[derive(clap::Parser)]
    struct Flags {
        #[command(flatten)]
        settings: Settings,
    }
    let flags = <Flags as clap::Parser>::try_parse_from(["kaiwa-signaling", "--turn-ttl", "3600"]).unwrap();
    assert_eq!(flags.settings.turn_ttl, Some(Duration::from_secs(3600)));
}

#[test]
fn flags_override_the_file() {
    let file: Settings = toml::from_str(
        "listen = \"127.0.0.1:9000\"\nmax-room-size = 4\nstun = [\"stun:a:3478\"]\nping-interval = \"1s\"\nidle-timeout = \"3s\"\n",
    )
    .unwrap();
    let flags = Settings { max_room_size: Some(3), ..Settings::default() };
    let config = flags.or(file).resolve().unwrap();
    assert_eq!(config.listen, "127.0.0.1:9000".parse().unwrap());
    assert_eq!(config.max_room_size, 3);
    assert_eq!(config.stun, vec!["stun:a:3478".to_string()]);
    assert_eq!(config.limits.ping_interval, Duration::from_secs(1));
    assert_eq!(config.limits.idle_timeout, Duration::from_secs(3));
    assert_eq!(config.limits.max_message_size, 64 * 1024);
}

#[test]
fn unknown_keys_and_bad_combinations_are_refused() {
    assert!(toml::from_str::<Settings>("max-rom-size = 4").is_err());
    let both = Settings { turn_secret: Some("s".into()), turn_user: Some("u".into()), ..Default::default() };
    assert!(both.resolve().is_err());
    let no_url = Settings { turn_secret: Some("s".into()), ..Default::default() };
    assert!(no_url.resolve().is_err());
    let half_tls = Settings { tls_cert: Some("c".into()), ..Default::default() };
    assert!(half_tls.resolve().is_err());
}
