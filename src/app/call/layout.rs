//! Where the tiles go. Three arrangements, as in the video-call apps people know:
//! - the **grid**, which makes 16:9 tiles as large as the area allows, the last row centred;
//! - **two people**: the other fills the stage and our self-view is a small picture-in-picture;
//! - **spotlight**: one tile big, the others in a strip below it: the tile the user pinned, or else a
//!   shared screen (the newest sharer's first).
//!
//! Tiles are the peers' cameras, then the screens they share, then our own.

use eframe::egui::{Rect, pos2, vec2};

/// Space between tiles, points.
const GAP: f32 = 10.0;
/// The picture-in-picture self-view: its width as a share of the stage, and its margin from the corner.
const PIP_SHARE: f32 = 0.22;
const PIP_MARGIN: f32 = 16.0;
/// The spotlight's strip of the other tiles: its height as a share of the area.
const STRIP_SHARE: f32 = 0.2;

/// Rectangles for the peers' camera tiles (in order), the shared screens' (in order) and the self-view.
/// The self-view is drawn last, so a picture-in-picture lies on top of the stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Tiles {
    pub peers: Vec<Rect>,
    pub screens: Vec<Rect>,
    pub own: Rect,
}

/// Which tile is pinned big.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pinned {
    Peer(usize),
    /// The `n`th shared screen.
    Screen(usize),
    Own,
}

/// Where `peers` camera tiles, `screens` shared screens and ours go in `area`, with `pinned` (if any,
/// else the first screen) in the spotlight.
pub fn arrange(peers: usize, screens: usize, pinned: Option<Pinned>, area: Rect) -> Tiles {
    let n = peers + screens + 1;
    let big = match pinned {
        Some(Pinned::Peer(i)) if i < peers => Some(i),
        Some(Pinned::Screen(j)) if j < screens => Some(peers + j),
        Some(Pinned::Own) if peers + screens > 0 => Some(n - 1),
        _ if screens > 0 => Some(peers),
        _ => None,
    };
    let mut rects = match (big, peers) {
        (Some(big), _) => spotlight(n, big, area),
        (None, 0) => vec![area],
        (None, 1) => {
            let w = (area.width() * PIP_SHARE).max(120.0).min(area.width() / 2.0);
            let size = vec2(w, w * 9.0 / 16.0);
            let own = Rect::from_min_size(area.right_bottom() - size - vec2(PIP_MARGIN, PIP_MARGIN), size);
            vec![area, own]
        }
        (None, _) => tile_rects(n, area),
    };
    let own = rects.pop().unwrap_or(area);
    let screens = rects.split_off(peers.min(rects.len()));
    Tiles { peers: rects, screens, own }
}

/// `n` tiles: tile `big` fills the stage above a strip of the others (as large as fit, centred).
fn spotlight(n: usize, big: usize, area: Rect) -> Vec<Rect> {
    let strip_h = area.height() * STRIP_SHARE;
    let stage = Rect::from_min_max(area.min, pos2(area.max.x, area.max.y - strip_h - GAP));
    let others = n - 1;
    let strip = Rect::from_min_max(pos2(area.min.x, area.max.y - strip_h), area.max);
    let tile_w =
        (strip_h * 16.0 / 9.0).min((strip.width() - GAP * (others as f32 - 1.0)) / others.max(1) as f32);
    let tile_h = tile_w * 9.0 / 16.0;
    let row_w = tile_w * others as f32 + GAP * (others as f32 - 1.0);
    let mut small = (0..others).map(|k| {
        let x = strip.center().x - row_w / 2.0 + k as f32 * (tile_w + GAP);
        Rect::from_min_size(pos2(x, strip.center().y - tile_h / 2.0), vec2(tile_w, tile_h))
    });
    (0..n).map(|i| if i == big { stage } else { small.next().unwrap_or(stage) }).collect()
}

/// Columns and rows for `n` tiles in a `w`×`h` area, choosing the layout that makes 16:9 tiles largest.
pub fn grid(n: usize, w: f32, h: f32) -> (usize, usize) {
    let n = n.max(1);
    let mut best = (1, n, 0.0f32);
    for cols in 1..=n {
        let rows = n.div_ceil(cols);
        let size = (w / cols as f32).min(h / rows as f32 * 16.0 / 9.0);
        if size >= best.2 {
            best = (cols, rows, size);
        }
    }
    (best.0, best.1)
}

/// The rectangles of `n` tiles in `area`, in order (the self-view is the last).
pub fn tile_rects(n: usize, area: Rect) -> Vec<Rect> {
    let (cols, rows) = grid(n, area.width(), area.height());
    let tw = (area.width() - GAP * (cols as f32 - 1.0)) / cols as f32;
    let th = (area.height() - GAP * (rows as f32 - 1.0)) / rows as f32;
    (0..n)
        .map(|i| {
            let (c, r) = (i % cols, i / cols);
            // Centre an incomplete last row.
            let in_row = if r == rows - 1 { n - r * cols } else { cols };
            let offset = (cols - in_row) as f32 * (tw + GAP) / 2.0;
            Rect::from_min_size(
                area.min + vec2(offset + c as f32 * (tw + GAP), r as f32 * (th + GAP)),
                vec2(tw, th),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area() -> Rect {
        Rect::from_min_size(pos2(0.0, 0.0), vec2(1600.0, 900.0))
    }

    fn overlap(a: &Rect, b: &Rect) -> bool {
        a.shrink(0.01).intersects(*b)
    }

    #[test]
    fn alone_we_fill_the_stage() {
        assert_eq!(arrange(0, 0, None, area()), Tiles { peers: vec![], screens: vec![], own: area() });
    }

    #[test]
    fn two_people_the_other_fills_the_stage_and_we_are_a_small_corner() {
        let t = arrange(1, 0, None, area());
        assert_eq!(t.peers, vec![area()]);
        assert!(area().contains_rect(t.own));
        assert!(t.own.width() < area().width() / 4.0, "a small picture: {:?}", t.own);
        assert!(t.own.right() > 1500.0 && t.own.bottom() > 800.0, "in the bottom-right corner: {:?}", t.own);
    }

    #[test]
    fn three_or_more_share_a_grid() {
        let t = arrange(3, 0, None, area());
        assert_eq!(t.peers.len(), 3);
        assert_eq!(t.own.size(), t.peers[0].size(), "the same size for everyone");
    }

    #[test]
    fn a_pinned_tile_is_big_and_the_others_sit_in_a_strip_below() {
        for pinned in [Pinned::Peer(1), Pinned::Own, Pinned::Screen(0)] {
            let t = arrange(3, 1, Some(pinned), area());
            let all: Vec<Rect> = t.peers.iter().chain(&t.screens).copied().chain([t.own]).collect();
            let big = match pinned {
                Pinned::Peer(i) => t.peers[i],
                Pinned::Screen(j) => t.screens[j],
                Pinned::Own => t.own,
            };
            assert!(big.height() > area().height() * 0.7, "{pinned:?}: big {big:?}");
            for (i, a) in all.iter().enumerate() {
                assert!(area().expand(0.01).contains_rect(*a), "{a:?} leaves the area");
                for b in &all[i + 1..] {
                    assert!(!overlap(a, b), "{pinned:?}: {a:?} overlaps {b:?}");
                }
                if *a != big {
                    assert!(a.top() > big.bottom(), "{pinned:?}: {a:?} is not below the big tile");
                }
            }
        }
    }

    #[test]
    fn a_pin_on_someone_who_left_falls_back() {
        assert_eq!(arrange(2, 0, Some(Pinned::Peer(5)), area()), arrange(2, 0, None, area()));
        assert_eq!(arrange(2, 0, Some(Pinned::Screen(0)), area()), arrange(2, 0, None, area()));
    }

    #[test]
    fn a_shared_screen_takes_the_stage_with_the_cameras_in_a_strip() {
        // Two people, one sharing: the screen is big, their camera and ours below it.
        let t = arrange(1, 1, None, area());
        assert_eq!(t.screens.len(), 1);
        assert!(t.screens[0].height() > area().height() * 0.7, "{:?}", t.screens[0]);
        for small in [t.peers[0], t.own] {
            assert!(small.top() > t.screens[0].bottom(), "{small:?} not in the strip");
            assert!(small.height() < area().height() * 0.25);
        }
        // A pin wins over the screen, and the screen goes to the strip.
        let pinned = arrange(1, 1, Some(Pinned::Peer(0)), area());
        assert!(pinned.peers[0].height() > area().height() * 0.7);
        assert!(pinned.screens[0].top() > pinned.peers[0].bottom());
        // Two screens: the first is big unless the second is pinned.
        let two = arrange(2, 2, Some(Pinned::Screen(1)), area());
        assert!(two.screens[1].height() > two.screens[0].height() * 3.0);
        assert_eq!(two.peers.len() + two.screens.len(), 4);
    }

    #[test]
    fn grid_shapes() {
        assert_eq!(grid(1, 1600.0, 900.0), (1, 1));
        assert_eq!(grid(2, 1600.0, 900.0), (2, 1));
        assert_eq!(grid(4, 1600.0, 900.0), (2, 2));
        assert_eq!(grid(2, 600.0, 900.0), (1, 2));
        assert_eq!(grid(0, 1600.0, 900.0), (1, 1), "the self-view alone");
    }

    #[test]
    fn tiles_fill_the_area_without_overlapping_and_the_last_row_is_centred() {
        let area = Rect::from_min_size(pos2(0.0, 0.0), vec2(1600.0, 900.0));
        let rects = tile_rects(3, area);
        assert_eq!(rects.len(), 3);
        for (i, a) in rects.iter().enumerate() {
            assert!(area.expand(0.01).contains_rect(*a), "tile {i} {a:?} leaves the area");
            for b in &rects[i + 1..] {
                assert!(!a.shrink(0.01).intersects(*b), "{a:?} overlaps {b:?}");
            }
        }
        // 2 + 1: the lone tile of the second row sits in the middle.
        assert!((rects[2].center().x - area.center().x).abs() < 0.01);
    }
}
