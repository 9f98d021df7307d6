//! Tests of I420 frames: conversions, scaling, cropping.

use super::*;

#[test]
fn rgba_round_trip_is_close() {
    let (w, h) = (64u32, 48u32);
    let mut rgba = vec![0u8; (w * h * 4) as usize];
    for (i, px) in rgba.chunks_exact_mut(4).enumerate() {
        let x = (i as u32 % w) as u8;
        let y = (i as u32 / w) as u8;
        px.copy_from_slice(&[x * 3, y * 4, 128, 255]);
    }
    let frame = I420Frame::from_rgba(w, h, &rgba).unwrap();
    let back = frame.to_rgba().unwrap();
    let max_diff = rgba.iter().zip(&back).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
    // 4:2:0 subsampling of a smooth gradient plus limited-range quantisation.
    assert!(max_diff <= 12, "max diff {max_diff}");
}

#[test]
fn yuyv_and_nv12_match_planar() {
    let (w, h) = (8u32, 4u32);
    let y: Vec<u8> = (0..w * h).map(|i| (i * 7) as u8).collect();
    let u: Vec<u8> = (0..(w / 2) * (h / 2)).map(|i| 100 + i as u8).collect();
    let v: Vec<u8> = (0..(w / 2) * (h / 2)).map(|i| 50 + i as u8).collect();
    let mut nv12 = y.clone();
    for (a, b) in u.iter().zip(&v) {
        nv12.push(*a);
        nv12.push(*b);
    }
    let f = I420Frame::from_nv12(w, h, &nv12).unwrap();
    assert_eq!((f.y(), f.u(), f.v()), (&y[..], &u[..], &v[..]));

    let mut yuyv = Vec::new();
    for row in 0..h as usize {
        for pair in 0..(w / 2) as usize {
            let ci = (row / 2) * (w as usize / 2) + pair;
            yuyv.extend_from_slice(&[
                y[row * w as usize + pair * 2],
                u[ci],
                y[row * w as usize + pair * 2 + 1],
                v[ci],
            ]);
        }
    }
    let f2 = I420Frame::from_yuyv(w, h, &yuyv).unwrap();
    assert_eq!(f2.y(), &y[..]);
    assert_eq!(f2.u(), &u[..]);
    assert_eq!(f2.v(), &v[..]);
}

#[test]
fn odd_sizes_convert_without_panicking() {
    for (w, h) in [(1u32, 1u32), (3, 5), (5, 3), (7, 2), (2, 7)] {
        let rgba: Vec<u8> = (0..w * h * 4).map(|i| (i * 37) as u8).collect();
        let frame = I420Frame::from_rgba(w, h, &rgba).unwrap();
        assert_eq!(frame.to_rgba().unwrap().len(), rgba.len());
        let (cw, ch) = frame.chroma_size();
        let nv12 = vec![100u8; (w * h) as usize + cw * ch * 2];
        assert!(I420Frame::from_nv12(w, h, &nv12).is_ok());
        let yuyv = vec![128u8; (w * h * 2) as usize];
        assert_eq!(I420Frame::from_yuyv(w, h, &yuyv).is_ok(), w % 2 == 0);
    }
}

#[test]
fn bad_sizes_are_errors() {
    assert!(I420Frame::black(0, 10).is_err());
    assert!(I420Frame::from_rgba(4, 4, &[0; 10]).is_err());
    assert!(I420Frame::from_yuyv(3, 2, &[0; 12]).is_err());
    assert!(I420Frame::from_nv12(4, 4, &[0; 5]).is_err());
    assert!(I420Frame::from_strided(4, 4, (&[0; 15], 4), (&[0; 4], 2), (&[0; 4], 2)).is_err());
    assert!(I420Frame::from_strided(4, 4, (&[0; 16], 3), (&[0; 4], 2), (&[0; 4], 2)).is_err());
    assert!(I420Frame::black(5, 3).unwrap().write_rgba(&mut [0; 3]).is_err());
}

#[test]
fn halves_and_averages() {
    let mut f = I420Frame::black(64, 64).unwrap();
    let (y, u, _) = f.planes_mut();
    for (i, p) in y.iter_mut().enumerate() {
        *p = if (i / 64) % 2 == 0 { 100 } else { 200 };
    }
    u.fill(50);
    let half = f.downscale_half().unwrap();
    assert_eq!((half.width(), half.height()), (32, 32));
    assert!(half.y().iter().all(|&p| p == 150));
    assert!(half.u().iter().all(|&p| p == 50));
    assert!(I420Frame::black(40, 40).unwrap().downscale_half().is_none());
    // Odd halves round down to even sizes.
    let odd = I420Frame::black(100, 70).unwrap().downscale_half().unwrap();
    assert_eq!((odd.width(), odd.height()), (50, 34));
}

#[test]
fn bgra_rows_with_padding_convert_like_rgba() {
    let (w, h, stride) = (64u32, 48u32, 64 * 4 + 16);
    let mut bgra = vec![0u8; (stride * h) as usize];
    let mut rgba = vec![0u8; (w * h * 4) as usize];
    for y in 0..h as usize {
        for x in 0..w as usize {
            let (r, g, b) = ((x * 4) as u8, (y * 5) as u8, 200u8);
            bgra[y * stride as usize + x * 4..][..4].copy_from_slice(&[b, g, r, 0]);
            rgba[(y * w as usize + x) * 4..][..4].copy_from_slice(&[r, g, b, 255]);
        }
    }
    let mut frame = I420Frame::black(w, h).unwrap();
    frame.fill_from_bgra(&bgra, stride).unwrap();
    assert_eq!(frame, I420Frame::from_rgba(w, h, &rgba).unwrap());
    assert!(frame.fill_from_bgra(&bgra[1..], stride).is_err(), "short input");
    assert!(frame.fill_from_bgra(&bgra, w * 4 - 4).is_err(), "stride under a row");
}
