//! How large and how often to send video for the bitrate congestion control allows: the sender's
//! degradation policy. Pure: the target, the source and the time are passed in.
//!
//! - A camera keeps its frame rate and gives up resolution (Chromium's "balanced"): the measure is bits
//!   per pixel per frame at the full frame rate. Below [`DOWN_BITS_PER_PIXEL`] the picture is halved (at
//!   once: every frame sent too large for its bits is smeared or lost); it grows again only when the larger
//!   size would get [`UP_BITS_PER_PIXEL`] for [`UP_HOLD`], so a size change (a new encoder, a keyframe)
//!   does not flap. Only at the smallest size does the frame rate drop.
//! - A shared screen keeps its resolution and gives up frame rate (Chromium's "maintain-resolution" for
//!   `contentHint = "detail"`): text halved is text unread, while a slide or a page changes a few times a
//!   second at most. The frame rate is halved and quartered first (the same thresholds); the picture is
//!   halved only when even a quarter of the frame rate gets less than [`SCREEN_DOWN_BITS_PER_PIXEL`].
//!
//! Measured with the lab's caps (640×480 @ 30 source): 1 Mbit/s keeps 640×480, 500 kbit/s sends 320×240,
//! 250 kbit/s 320×240 (see docs/BENCHMARKS.md).

use std::time::{Duration, Instant};

use kaiwa_media::video::Content;

/// Below this at the current size, halve the picture.
pub const DOWN_BITS_PER_PIXEL: f64 = 0.04;
/// The larger size must get this much to come back.
pub const UP_BITS_PER_PIXEL: f64 = 0.055;
/// ... for this long.
pub const UP_HOLD: Duration = Duration::from_secs(1);
/// At the smallest size, below this the frame rate is halved (then quartered).
pub const MIN_BITS_PER_PIXEL: f64 = 0.02;
/// A screen at a quarter of its frame rate is halved below this (1920×1080 at 15 fps: ~78 kbit/s) ...
pub const SCREEN_DOWN_BITS_PER_PIXEL: f64 = 0.01;
/// ... and comes back above this.
pub const SCREEN_UP_BITS_PER_PIXEL: f64 = 0.014;
/// Full, half and quarter size.
pub const MAX_HALVINGS: u32 = 2;
/// No side is halved below this.
const MIN_SIDE: u32 = 32;

/// What to send now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoLayout {
    /// How many times the source picture is halved (0 = full size).
    pub halvings: u32,
    pub width: u32,
    pub height: u32,
    /// Send one of this many captured frames (1, 2 or 4).
    pub frame_rate_divider: u32,
}

/// The policy's state for one source.
#[derive(Debug, Clone)]
pub struct Adaptation {
    width: u32,
    height: u32,
    fps: u32,
    content: Content,
    halvings: u32,
    /// Since when the next larger size has had enough bits.
    up_since: Option<Instant>,
}

/// The size after `halvings` halvings, rounded down to even sides.
pub fn scaled_size(width: u32, height: u32, halvings: u32) -> (u32, u32) {
    ((width >> halvings) & !1, (height >> halvings) & !1)
}

fn bits_per_pixel(target_bps: u32, (width, height): (u32, u32), fps: u32) -> f64 {
    f64::from(target_bps) / (f64::from(width) * f64::from(height) * f64::from(fps.max(1))).max(1.0)
}

/// How many captured frames to take one of, for this bitrate at this size and frame rate.
pub fn frame_rate_divider(target_bps: u32, width: u32, height: u32, fps: u32) -> u32 {
    let bpp = bits_per_pixel(target_bps, (width, height), fps);
    if bpp >= MIN_BITS_PER_PIXEL {
        1
    } else if bpp >= MIN_BITS_PER_PIXEL / 2.0 {
        2
    } else {
        4
    }
}

impl Adaptation {
    pub fn new(width: u32, height: u32, fps: u32, content: Content) -> Self {
        Adaptation { width, height, fps, content, halvings: 0, up_since: None }
    }

    /// The frame rate the size is judged at, and the thresholds to halve and to grow back.
    fn size_policy(&self) -> (u32, f64, f64) {
        match self.content {
            Content::Camera => (self.fps, DOWN_BITS_PER_PIXEL, UP_BITS_PER_PIXEL),
            Content::Screen => (self.fps.div_ceil(4), SCREEN_DOWN_BITS_PER_PIXEL, SCREEN_UP_BITS_PER_PIXEL),
        }
    }

    fn size(&self, halvings: u32) -> (u32, u32) {
        scaled_size(self.width, self.height, halvings)
    }

    fn can_halve(&self) -> bool {
        let (w, h) = self.size(self.halvings + 1);
        self.halvings < MAX_HALVINGS && w >= MIN_SIDE && h >= MIN_SIDE
    }

    /// The layout for `target_bps` at `now`.
    pub fn update(&mut self, target_bps: u32, now: Instant) -> VideoLayout {
        let (judged_fps, down, up) = self.size_policy();
        let starved = |a: &Self| bits_per_pixel(target_bps, a.size(a.halvings), judged_fps) < down;
        if starved(self) && self.can_halve() {
            while starved(self) && self.can_halve() {
                self.halvings += 1;
            }
            self.up_since = None;
        } else if self.halvings > 0
            && bits_per_pixel(target_bps, self.size(self.halvings - 1), judged_fps) >= up
        {
            let since = *self.up_since.get_or_insert(now);
            if now.saturating_duration_since(since) >= UP_HOLD {
                self.halvings -= 1;
                self.up_since = None;
            }
        } else {
            self.up_since = None;
        }
        let (width, height) = self.size(self.halvings);
        VideoLayout {
            halvings: self.halvings,
            width,
            height,
            frame_rate_divider: frame_rate_divider(target_bps, width, height, self.fps),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout_after(a: &mut Adaptation, target: u32, now: Instant) -> (u32, u32, u32) {
        let l = a.update(target, now);
        (l.width, l.height, l.frame_rate_divider)
    }

    #[test]
    fn the_picture_shrinks_before_the_frame_rate_drops() {
        let t = Instant::now();
        let mut a = Adaptation::new(640, 480, 30, Content::Camera);
        assert_eq!(layout_after(&mut a, 1_500_000, t), (640, 480, 1));
        assert_eq!(layout_after(&mut a, 700_000, t), (640, 480, 1)); // a 1 Mbit/s link
        assert_eq!(layout_after(&mut a, 330_000, t), (320, 240, 1)); // a 500 kbit/s link
        assert_eq!(layout_after(&mut a, 140_000, t), (320, 240, 1)); // a 250 kbit/s link
        assert_eq!(layout_after(&mut a, 60_000, t), (160, 120, 1));
        assert_eq!(layout_after(&mut a, 8_000, t), (160, 120, 2)); // smallest size: now the rate drops
        assert_eq!(layout_after(&mut a, 2_000, t), (160, 120, 4));
    }

    #[test]
    fn a_screen_gives_up_frame_rate_before_resolution() {
        let t = Instant::now();
        let mut a = Adaptation::new(1920, 1080, 15, Content::Screen);
        // 1920×1080 at 15 fps is 31 Mpixel/s: 0.02 bit per pixel is 622 kbit/s.
        assert_eq!(layout_after(&mut a, 2_500_000, t), (1920, 1080, 1));
        assert_eq!(layout_after(&mut a, 700_000, t), (1920, 1080, 1));
        assert_eq!(layout_after(&mut a, 400_000, t), (1920, 1080, 2));
        assert_eq!(layout_after(&mut a, 150_000, t), (1920, 1080, 4));
        // Only below 0.01 at a quarter of the rate (~78 kbit/s) does the picture halve.
        assert_eq!(layout_after(&mut a, 60_000, t), (960, 540, 4));
        // It comes back at 0.014 at a quarter of the rate (~116 kbit/s at full size), after a while.
        assert_eq!(layout_after(&mut a, 120_000, t + Duration::from_secs(1)), (960, 540, 2));
        assert_eq!(layout_after(&mut a, 120_000, t + Duration::from_secs(2)), (1920, 1080, 4));
    }

    #[test]
    fn a_big_drop_skips_sizes_at_once() {
        let t = Instant::now();
        let mut a = Adaptation::new(1280, 720, 30, Content::Camera);
        assert_eq!(layout_after(&mut a, 2_000_000, t), (1280, 720, 1));
        assert_eq!(layout_after(&mut a, 150_000, t), (320, 180, 1));
    }

    #[test]
    fn it_grows_back_only_after_the_larger_size_had_enough_for_a_while() {
        let t = Instant::now();
        let mut a = Adaptation::new(640, 480, 30, Content::Camera);
        assert_eq!(layout_after(&mut a, 300_000, t), (320, 240, 1));
        // 640×480 @ 30 needs 0.055 × 9.2 Mpixel/s ≈ 507 kbit/s to come back.
        assert_eq!(layout_after(&mut a, 450_000, t + Duration::from_secs(5)), (320, 240, 1));
        assert_eq!(layout_after(&mut a, 600_000, t + Duration::from_secs(6)), (320, 240, 1));
        assert_eq!(layout_after(&mut a, 600_000, t + Duration::from_millis(6500)), (320, 240, 1));
        // A dip restarts the wait.
        assert_eq!(layout_after(&mut a, 450_000, t + Duration::from_millis(6800)), (320, 240, 1));
        assert_eq!(layout_after(&mut a, 600_000, t + Duration::from_secs(7)), (320, 240, 1));
        assert_eq!(layout_after(&mut a, 600_000, t + Duration::from_secs(8)), (640, 480, 1));
    }

    #[test]
    fn between_the_thresholds_nothing_changes() {
        let t = Instant::now();
        let mut a = Adaptation::new(640, 480, 30, Content::Camera);
        a.update(300_000, t);
        for s in 0..20 {
            // 0.04 × 9.2 M ≈ 369 kbit/s keeps full size; 507 brings it back: 450 does neither.
            assert_eq!(layout_after(&mut a, 450_000, t + Duration::from_secs(s)), (320, 240, 1));
        }
        let mut full = Adaptation::new(640, 480, 30, Content::Camera);
        for s in 0..20 {
            assert_eq!(layout_after(&mut full, 450_000, t + Duration::from_secs(s)), (640, 480, 1));
        }
    }

    #[test]
    fn tiny_sources_are_never_halved_below_32_pixels() {
        let t = Instant::now();
        let mut a = Adaptation::new(96, 64, 30, Content::Camera);
        assert_eq!(layout_after(&mut a, 100, t), (48, 32, 4));
        let mut b = Adaptation::new(60, 60, 30, Content::Camera);
        assert_eq!(layout_after(&mut b, 100, t), (60, 60, 4));
    }

    #[test]
    fn frame_rate_divider_thresholds() {
        assert_eq!(frame_rate_divider(1_000_000, 640, 480, 30), 1);
        assert_eq!(frame_rate_divider(200_000, 640, 480, 30), 1);
        assert_eq!(frame_rate_divider(150_000, 640, 480, 30), 2);
        assert_eq!(frame_rate_divider(50_000, 640, 480, 30), 4);
        assert_eq!(frame_rate_divider(0, 0, 0, 0), 4);
    }
}
