//! Memory shared with the X server (MIT-SHM): the screen and window captures read their pictures from it.

use std::os::fd::{AsFd, FromRawFd, OwnedFd};

use x11rb::connection::Connection;
use x11rb::protocol::shm::{self, ConnectionExt as _};
use x11rb::rust_connection::RustConnection;

/// Memory shared with the X server: a memfd mapped here and attached there.
pub(super) struct Shared {
    pub(super) seg: shm::Seg,
    ptr: *mut u8,
    len: usize,
    _fd: OwnedFd,
}

impl Shared {
    pub(super) fn new(conn: &RustConnection, len: usize) -> Result<Shared, String> {
        // SAFETY: memfd_create with a valid NUL-terminated name; the result is checked.
        let raw = unsafe { libc::memfd_create(c"kaiwa-screen".as_ptr(), libc::MFD_CLOEXEC) };
        if raw < 0 {
            return Err(format!("memfd_create: {}", std::io::Error::last_os_error()));
        }
        // SAFETY: `raw` is a new descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: `fd` is a valid memfd; the length is checked by the kernel.
        if unsafe { libc::ftruncate(raw, len as libc::off_t) } != 0 {
            return Err(format!("ftruncate: {}", std::io::Error::last_os_error()));
        }
        // SAFETY: a fresh shared mapping of `len` bytes of the memfd; the result is checked.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                raw,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(format!("mmap: {}", std::io::Error::last_os_error()));
        }
        let seg = conn.generate_id().map_err(|e| e.to_string())?;
        let dup = fd.as_fd().try_clone_to_owned().map_err(|e| e.to_string())?;
        let attached = conn.shm_attach_fd(seg, dup, false).map_err(|e| e.to_string())?.check();
        let shared = Shared { seg, ptr: ptr.cast(), len, _fd: fd };
        attached.map_err(|e| format!("MIT-SHM attach: {e}"))?;
        Ok(shared)
    }

    pub(super) fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` maps `len` bytes for as long as `self` lives; the X server writes into it only
        // during a GetImage we wait for, never while this slice is read.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new`.
        unsafe {
            libc::munmap(self.ptr.cast(), self.len);
        }
    }
}

// SAFETY: the mapping is owned by this value alone and only read through `&self`.
unsafe impl Send for Shared {}
