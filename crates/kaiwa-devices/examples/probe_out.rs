use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
fn main() {
    let host = cpal::default_host();
    let dev = host.default_output_device().unwrap();
    let cfg = dev.default_output_config().unwrap();
    println!("{cfg:?}");
    let n = Arc::new(AtomicU64::new(0));
    let s = Arc::new(AtomicU64::new(0));
    let (n2, s2) = (n.clone(), s.clone());
    let mut c = cfg.config();
    if std::env::args().nth(1).is_some() {
        c.buffer_size = cpal::BufferSize::Fixed(960);
    }
    let st = dev
        .build_output_stream::<f32, _, _>(
            c,
            move |d: &mut [f32], _| {
                n2.fetch_add(1, Ordering::Relaxed);
                s2.fetch_add(d.len() as u64, Ordering::Relaxed);
            },
            |e| eprintln!("err {e}"),
            None,
        )
        .unwrap();
    st.play().unwrap();
    for _ in 0..10 {
        std::thread::sleep(std::time::Duration::from_millis(200));
        println!("{} {}", n.load(Ordering::Relaxed), s.load(Ordering::Relaxed));
    }
}
