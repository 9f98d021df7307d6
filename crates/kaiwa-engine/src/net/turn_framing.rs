//! TURN messages on a byte stream (TCP or TLS), as [RFC 8656 §12.5](https://www.rfc-editor.org/rfc/rfc8656#section-12.5)
//! frames them: STUN messages carry their own length, and ChannelData messages
//! ([RFC 8656 §12.4](https://www.rfc-editor.org/rfc/rfc8656#section-12.4)) are padded to a multiple of four
//! bytes, which over UDP they need not be. Pure: bytes in, datagrams out. No input panics; a stream that
//! does not parse is an error, and the connection is closed.

use thiserror::Error;

/// STUN header: type (2), length (2), magic cookie (4), transaction id (12).
/// [RFC 8489 §5](https://www.rfc-editor.org/rfc/rfc8489#section-5)
const STUN_HEADER: usize = 20;
/// ChannelData header: channel number (2), length (2).
const CHANNEL_DATA_HEADER: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FramingError {
    #[error("the TURN server sent a message that is neither STUN nor ChannelData (first byte {0:#04x})")]
    UnknownMessage(u8),
}

/// What a message's first two bits say it is ([RFC 7983 §7](https://www.rfc-editor.org/rfc/rfc7983#section-7)
/// for the demultiplexing of the first byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// 0b00: a STUN message; `header` bytes then the length field's bytes.
    Stun,
    /// 0b01 (channel numbers 0x4000–0x7FFF): ChannelData.
    ChannelData,
}

fn kind(first: u8) -> Result<Kind, FramingError> {
    match first >> 6 {
        0b00 => Ok(Kind::Stun),
        0b01 => Ok(Kind::ChannelData),
        _ => Err(FramingError::UnknownMessage(first)),
    }
}

/// The datagram as it goes on the stream: ChannelData padded to a multiple of four, the rest as it is.
/// `None` for a datagram that is not a TURN message (nothing the client sends; it is dropped).
pub fn to_stream(datagram: &[u8]) -> Option<Vec<u8>> {
    let first = *datagram.first()?;
    let mut out = datagram.to_vec();
    if kind(first).ok()? == Kind::ChannelData {
        out.resize(datagram.len().next_multiple_of(4), 0);
    }
    Some(out)
}

/// Splits what a TURN server sends on a stream back into datagrams.
#[derive(Debug, Default)]
pub struct StreamDecoder {
    buffer: Vec<u8>,
}

impl StreamDecoder {
    /// Bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next whole message as a datagram (ChannelData without its stream padding), `None` until one
    /// has arrived.
    pub fn next_datagram(&mut self) -> Result<Option<Vec<u8>>, FramingError> {
        let Some(&first) = self.buffer.first() else { return Ok(None) };
        let kind = kind(first)?;
        if self.buffer.len() < CHANNEL_DATA_HEADER {
            return Ok(None);
        }
        let length = usize::from(u16::from_be_bytes([self.buffer[2], self.buffer[3]]));
        let (message, on_stream) = match kind {
            Kind::Stun => (STUN_HEADER + length, STUN_HEADER + length),
            Kind::ChannelData => {
                let message = CHANNEL_DATA_HEADER + length;
                (message, message.next_multiple_of(4))
            }
        };
        if self.buffer.len() < on_stream {
            return Ok(None);
        }
        let datagram = self.buffer[..message].to_vec();
        self.buffer.drain(..on_stream);
        Ok(Some(datagram))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A STUN Binding success response with `payload` bytes of attributes.
    fn stun(payload: usize) -> Vec<u8> {
        let mut m = vec![0x01, 0x01];
        m.extend_from_slice(&(payload as u16).to_be_bytes());
        m.extend_from_slice(&[0x21, 0x12, 0xA4, 0x42]);
        m.extend_from_slice(&[7; 12]);
        m.extend((0..payload).map(|i| i as u8));
        m
    }

    fn channel_data(payload: usize) -> Vec<u8> {
        let mut m = vec![0x40, 0x01];
        m.extend_from_slice(&(payload as u16).to_be_bytes());
        m.extend((0..payload).map(|i| (i * 3) as u8));
        m
    }

    #[test]
    fn channel_data_is_padded_on_the_stream_and_unpadded_off_it() {
        let message = channel_data(5);
        let on_stream = to_stream(&message).unwrap();
        assert_eq!(on_stream.len(), 12);
        assert_eq!(&on_stream[..9], &message[..]);
        let mut d = StreamDecoder::default();
        d.push(&on_stream);
        assert_eq!(d.next_datagram(), Ok(Some(message)));
        assert_eq!(d.next_datagram(), Ok(None));
        assert_eq!(to_stream(&stun(8)).unwrap(), stun(8));
    }

    #[test]
    fn messages_split_anywhere_come_out_whole_and_in_order() {
        let messages = [stun(12), channel_data(1), channel_data(0), stun(0), channel_data(100)];
        let stream: Vec<u8> = messages.iter().flat_map(|m| to_stream(m).unwrap()).collect();
        for chunk in [1, 3, 7, 64, stream.len()] {
            let mut d = StreamDecoder::default();
            let mut out = Vec::new();
            for piece in stream.chunks(chunk) {
                d.push(piece);
                while let Some(m) = d.next_datagram().unwrap() {
                    out.push(m);
                }
            }
            assert_eq!(out, messages, "in chunks of {chunk}");
        }
    }

    #[test]
    fn garbage_is_an_error_and_nothing_panics() {
        let mut d = StreamDecoder::default();
        d.push(&[0xC0, 0, 0, 0]);
        assert_eq!(d.next_datagram(), Err(FramingError::UnknownMessage(0xC0)));
        assert_eq!(to_stream(&[0x80, 1, 2]), None);
        assert_eq!(to_stream(&[]), None);
        // A huge length just waits for more.
        let mut d = StreamDecoder::default();
        d.push(&[0x00, 0x01, 0xFF, 0xFF, 1, 2]);
        assert_eq!(d.next_datagram(), Ok(None));
        let mut d = StreamDecoder::default();
        d.push(&[0x40]);
        assert_eq!(d.next_datagram(), Ok(None));
    }
}
