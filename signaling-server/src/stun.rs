//! STUN Binding answers on the server's own port, over UDP ([RFC 8489 §6.3](https://www.rfc-editor.org/rfc/rfc8489#section-6.3)):
//! every Kaiwa server tells a client its public address, with no STUN server configured, and gives the
//! network check a second destination besides the TURN server, which it needs to tell a NAT that keeps
//! one mapping for everyone from one that maps each destination apart. Only Binding requests are
//! answered, with a response no larger than the request plus an address, so the port is no amplifier.

use std::net::SocketAddr;

use rtc_stun::message::{BINDING_REQUEST, BINDING_SUCCESS, Message};
use rtc_stun::xoraddr::XorMappedAddress;
use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

/// The Binding success response to `request` from `from`, or `None` for anything that is not a well-formed
/// Binding request.
pub fn binding_answer(request: &[u8], from: SocketAddr) -> Option<Vec<u8>> {
    if !rtc_stun::message::is_stun_message(request) {
        return None;
    }
    let mut incoming = Message::new();
    incoming.unmarshal_binary(request).ok()?;
    if incoming.typ != BINDING_REQUEST {
        return None;
    }
    let mut answer = Message::new();
    let mapped = XorMappedAddress { ip: from.ip(), port: from.port() };
    answer.build(&[Box::new(incoming.transaction_id), Box::new(BINDING_SUCCESS), Box::new(mapped)]).ok()?;
    Some(answer.raw)
}

/// Answers Binding requests on UDP `addr` (the server's own listening address) until `shutdown`; when
/// the port cannot be had, says so and does without.
pub async fn serve_on(addr: SocketAddr, shutdown: CancellationToken) {
    match UdpSocket::bind(addr).await {
        Ok(socket) => {
            info!(%addr, "answering STUN Binding requests (UDP)");
            serve(socket, shutdown).await;
        }
        Err(e) => {
            warn!(%addr, error = %e, "cannot answer STUN on the server's port (UDP); the network check has one destination fewer")
        }
    }
}

/// Answers Binding requests on `socket` until `shutdown`.
pub async fn serve(socket: UdpSocket, shutdown: CancellationToken) {
    let mut buf = [0u8; 1500];
    loop {
        let (n, from) = tokio::select! {
            _ = shutdown.cancelled() => return,
            received = socket.recv_from(&mut buf) => match received {
                Ok(r) => r,
                Err(e) => {
                    debug!(error = %e, "STUN receive failed");
                    continue;
                }
            },
        };
        if let Some(answer) = binding_answer(&buf[..n], from) {
            let _ = socket.send_to(&answer, from).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use rtc_stun::message::{Getter, TransactionId};

    use super::*;

    #[test]
    fn a_binding_request_gets_the_address_it_came_from() {
        let mut request = Message::new();
        let id = TransactionId::new();
        request.build(&[Box::new(id), Box::new(BINDING_REQUEST)]).unwrap();
        let from: SocketAddr = "198.51.100.7:40000".parse().unwrap();
        let raw = binding_answer(&request.raw, from).expect("an answer");
        let mut answer = Message::new();
        answer.unmarshal_binary(&raw).unwrap();
        assert_eq!(answer.typ, BINDING_SUCCESS);
        assert_eq!(answer.transaction_id, id);
        let mut mapped = XorMappedAddress::default();
        mapped.get_from(&answer).unwrap();
        assert_eq!(SocketAddr::new(mapped.ip, mapped.port), from);
    }

    #[test]
    fn anything_else_gets_nothing() {
        let from: SocketAddr = "198.51.100.7:40000".parse().unwrap();
        assert_eq!(binding_answer(b"", from), None);
        assert_eq!(binding_answer(b"GET / HTTP/1.1\r\n\r\n", from), None);
        let mut success = Message::new();
        success.build(&[Box::new(TransactionId::new()), Box::new(BINDING_SUCCESS)]).unwrap();
        assert_eq!(binding_answer(&success.raw, from), None, "answers are not answered");
        // A Binding request whose header claims 100 bytes of attributes that are not there.
        let mut truncated = success.raw.clone();
        truncated[..4].copy_from_slice(&[0x00, 0x01, 0x00, 100]);
        assert_eq!(binding_answer(&truncated, from), None);
    }
}
