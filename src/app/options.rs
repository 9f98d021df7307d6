//! The desktop app's command line (`kaiwa` with no subcommand).

/// What the command line asked for.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Options {
    /// Signaling server to use instead of hosting one, e.g. wss://host:8443/ws
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// Room code, or a join link https://HOST:PORT/r/CODE
    #[arg(long, value_name = "CODE|LINK")]
    pub room: Option<String>,
    /// Your name as the others see it
    #[arg(long)]
    pub name: Option<String>,
    /// Go straight into the call (needs --room)
    #[arg(long)]
    pub join: bool,
    /// Open the pre-join screen (preview and devices) at once (needs --room)
    #[arg(long, conflicts_with = "join")]
    pub prejoin: bool,
    /// Host the signaling server in this app (the default unless --server is given)
    #[arg(long)]
    pub host: bool,
    /// Address the hosted server listens on (default 0.0.0.0:8443)
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// Trust a self-signed server with this SHA-256 certificate fingerprint
    #[arg(long, value_name = "HEX")]
    pub trust_fingerprint: Option<String>,
    /// Local address for media sockets, e.g. 127.0.0.1:0 (default: every interface)
    #[arg(long, value_name = "ADDR:PORT")]
    pub bind: Option<String>,
    /// Measure UI smoothness: time between frames and CPU time per frame, summarised on stderr every 10 s
    /// and at exit
    #[arg(long)]
    pub frame_stats: bool,
    /// Close the window after this many seconds (benchmarks, scripts)
    #[arg(long, value_name = "SECONDS")]
    pub exit_after: Option<f64>,
    /// Offer only this video codec, h264 or vp8 (default: both, H.264 first); for tests
    #[arg(long, value_name = "CODEC")]
    pub video_codec: Option<kaiwa_media::video::VideoCodec>,
    /// Window size, e.g. 1280x800
    #[arg(long, value_name = "WxH", default_value = "1280x800")]
    pub window: String,
}
