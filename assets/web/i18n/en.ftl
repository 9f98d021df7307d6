# The browser client's text in English, the language every other .ftl file falls back to (Project Fluent
# syntax: https://projectfluent.org/fluent/guide/). ja.ftl and ko.ftl define the same messages; the
# browser tests (crates/kaiwa-browser-tests/tests/i18n.rs) check that, and that every id the page uses is here.

## The language picker

lang-label = Language
lang-auto = Automatic

## Home

home-title = Talk face to face.
home-lead = Video calls straight between you and the people you invite: audio and video never pass through the server.
home-create = Create a room
home-or-join = or join one
home-code-input =
    .placeholder = Room code or link
    .aria-label = Room code
home-join = Join
home-bad-code = That room code is not valid: use 3–64 letters, digits or dashes.
home-enter-code = Enter a room code (like abc-defg-hij) or paste an invite link.
# $reason: the browser's own words, e.g. "Failed to fetch"
home-create-failed = Could not create a room: { $reason }. Is the server running?
home-create-failed-status = Could not create a room: the server answered { $status }. Is the server running?

## Pre-join

prejoin-title = Ready to join?
prejoin-room = Room
prejoin-checking-room = Checking the room…
prejoin-name = Your name
prejoin-name-input =
    .placeholder = How others see you
prejoin-name-first =
    .placeholder = Enter your name first
prejoin-camera = Camera
prejoin-microphone = Microphone
prejoin-camera-off = Camera off
prejoin-mic-on = Mic on
    .title = { prejoin-microphone }
prejoin-mic-off = Mic off
    .title = { prejoin-microphone }
prejoin-no-mic = No mic
    .title = { prejoin-microphone }
prejoin-cam-on = Camera on
    .title = { prejoin-camera }
prejoin-cam-off = Camera off
    .title = { prejoin-camera }
prejoin-no-camera = No camera
    .title = { prejoin-camera }
prejoin-join = Join now
copy-invite = Copy invite link
link-copied = Link copied
room-full = Room full ({ $participants } of { $capacity })
room-empty = 0 of { $capacity } here · you'll be the first
room-count = { $participants } of { $capacity } here
room-unreachable = Cannot reach the server
room-invalid = That room code is not valid.

## The network check

net-title = Network
net-checking = Checking your network…
net-again = Check again
net-no-server = No calls possible: the server does not answer.
net-server-down = Server: does not answer ({ $reason }).
net-server-status = Server: does not answer (it said { $status }).
net-direct-likely = Direct calls likely: your network lets calls through.
# $via: the relay's transports, e.g. "UDP, TCP"
net-relay-needed = Calls will need the relay: your network blocks direct calls, but the relay works (over { $via }).
net-no-path = Calls will probably fail: your network blocks direct calls and no relay (TURN) server answered.
net-unchecked = Calls within your network will work; the server offers nothing (STUN, TURN) to check beyond it.
net-server-ok = Server: answers ({ $ms } ms).
net-public-address = Public address: { $address } (as the internet sees you).
net-no-public-address = Public address: unknown, no STUN server answered (UDP seems blocked).
net-symmetric = Router: uses a new address for everyone you talk to (a symmetric NAT): direct calls will not work.
net-no-relay = Relay: the server offers none.
net-relay-works = Relay over { $transport }: works.
net-relay-silent = Relay over { $transport }: does not answer.

## Camera and microphone ($device: camera, microphone or both)

media-blocked = Your browser blocked the { $device ->
        [camera] camera
        [microphone] microphone
       *[both] camera and microphone
    }. Allow access in the site settings (the icon left of the address), then reload.
media-not-found = No { $device ->
        [camera] camera
        [microphone] microphone
       *[both] camera or microphone
    } found. Plug one in, or join without it.
media-in-use = The { $device ->
        [camera] camera
        [microphone] microphone
       *[both] camera and microphone
    } is in use by another app or could not start. Close that app and reload.
media-failed = Could not open the { $device ->
        [camera] camera
        [microphone] microphone
       *[both] camera and microphone
    }: { $reason }.
media-failed-plain = Could not open the { $device ->
        [camera] camera
        [microphone] microphone
       *[both] camera and microphone
    }.
media-insecure = This page is not secure (plain http on a network address), so the browser will not share your camera or microphone. Open it over https: start the server with --tls-self-signed (scripts/run.sh does), or use http://localhost on the machine running the server. You can still join to watch and listen.
media-unavailable = Not available on this page
media-camera-n = Camera { $n }
media-mic-n = Microphone { $n }
media-no-cameras = No camera found
media-no-mics = No microphone found

## The call

call-participants =
    .aria-label = Participants
call-chat-panel =
    .aria-label = Chat
chat-title = Chat
chat-input =
    .placeholder = Message everyone
    .aria-label = Message
chat-log =
    .data-empty = Messages go to everyone in the call, straight from your browser.
chat-send = Send
chat-you = You
call-copy = { $room } · Copy link
    .title = { copy-invite }
call-mute = Mute
call-unmute = Unmute
call-no-mic = No mic
call-stop-video = Stop video
call-start-video = Start video
call-no-camera = No camera
call-share = Share screen
call-stop-share = Stop sharing
call-chat = Chat
call-full = Full screen
    .title = Full screen (double-click a tile to pin it big)
call-exit-full = Exit full screen
    .title = { call-full.title }
call-leave = Leave
call-count = { $count } in call
call-reconnecting = Lost the connection to the server. Reconnecting…
reconnecting = Reconnecting…
call-sound-held = Your browser held back the sound of this call.
call-sound-on = Turn sound on
banner-dismiss = Close
call-no-common-video = Video can't be shown: no common video format
guest = Guest
screen-unsupported = This browser cannot share a screen.
# $reason: the browser's own words
screen-failed = The screen could not be shared: { $reason }

## Tiles

tile-you = { $name } (you)
tile-screen = { $name }'s screen
tile-muted = muted
    .title = Microphone off
tile-code = 🔒 { $code }
    .title = Verification code: read it to them. If theirs differs, someone is in between.
tile-volume =
    .aria-label = Volume of { $name }
    .title = Volume { $percent } %
conn-connecting = connecting
conn-connected = connected
conn-direct = connected via direct
conn-relay = connected via relay
# $transport: TCP or TLS
conn-direct-over = connected via direct ({ $transport })
conn-relay-over = connected via relay ({ $transport })
conn-reconnecting = reconnecting
conn-failed = failed
conn-closed = closed

## Leaving, and calls that end

left-title = You left the call
left-text = Room { $room }
rejoin = Rejoin
home-link = Home
room-full-title = This room is full
bad-code-title = That room code is not valid
update-title = Update needed
retry = Try again
reload = Reload

## The signaling server's error codes (docs/PROTOCOL.md), shown instead of the server's English message

error-bad_message = The server did not understand a message from this page.
error-bad_room_code = Room codes are 3–64 letters, digits or dashes.
error-room_full = It already has as many people as a room can hold. Try again when someone leaves.
error-not_joined = This page sent a message before it had joined the room.
error-already_joined = This page is already in the room.
error-unknown_peer = That participant is no longer in the room.
error-too_large = A message was too large for the server.
error-rate_limited = This page sent too many messages at once; the server is slowing it down.
error-version_mismatch = This page is older than the server. Reload it.
error-server_full = The server is full right now.
error-timeout = The server stopped hearing from this page.
error-slow_consumer = This page could not keep up with the server.
error-unavailable = The server cannot reach its room service right now.
