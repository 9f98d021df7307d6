# Kaiwa desktop app: English, the source of the other languages (ja.ftl, ko.ftl have the same ids).

## Shared words

continue = Continue
forget = Forget
copy-link = Copy link
time-of-day = { $hour12 }:{ $minute } { $ampm ->
        [am] AM
       *[pm] PM
    }

## Start screen

start-tagline = Video calls between desktops and browsers
start-your-name = Your name
start-room = Room
start-room-hint = code, or a link https://…/r/CODE
start-create-room = Create room
start-create-failed = Could not create a room: { $error }
start-room-status-unknown = Room status unknown: { $error }
start-checking-room = Checking the room…
start-server = Server
start-host-here = Host on this computer (LAN)
start-use-server = Use a server
start-hosting-on = Hosting on port { $port } — browsers open the room link.
start-certificate-fingerprint = Certificate fingerprint { $fingerprint }
start-host-stale-ice = The built-in server still hands out the STUN and TURN settings it started with.
start-host-restart = Restart the built-in server
start-host-restart-hover = Everyone connected to it reconnects by themselves
start-host-failed = The built-in server could not start: { $error }
start-host-starting = Starting the built-in server…
start-pin-hint = fingerprint to pin (optional: self-signed servers are trusted on first use)
start-settings = Network and video settings
start-checking-certificate = Checking the server's certificate…
start-trusted-certificate = Trusted certificate { $fingerprint }
start-forget-hover = Ask again on the next connection
start-enter-server = Enter the server's address first

## Network and video settings

settings-stun = Extra STUN servers (space separated)
settings-turn = TURN servers (space separated)
settings-turn-hover = When hosting, the built-in server hands these to everyone who joins, browsers too
settings-turn-user = TURN user
settings-turn-password = TURN password
settings-turn-secret = or, when hosting: coturn's static-auth-secret
settings-turn-secret-hover = The built-in server then gives everyone who joins their own short-lived TURN credentials
settings-camera-size = Camera size
settings-frame-rate = Frame rate
settings-fps-suffix = { " " }fps

## Pre-join screen

back = Back
prejoin-ready = Ready to join?
prejoin-room = Room { $room }
prejoin-starting-camera = Starting camera…
prejoin-preview = Preview: { $source }
prejoin-looking-for-devices = Looking for devices…
prejoin-play-test-sound = Play test sound
prejoin-join-now = Join now
device-camera = Camera
device-microphone = Microphone
device-speaker = Speaker
device-no-camera = No camera
device-no-microphone = No microphone
device-no-speaker = No speaker
device-system-default = System default
audio-processing = Echo cancellation & noise suppression
audio-processing-hover = Removes the others' voices from your microphone when you use speakers, and steady background noise. Turn off for music or when you use headphones and want your sound untouched.
room-empty = Nobody here yet (up to { $capacity })
room-full = Room full ({ $count } of { $capacity })
room-count = { $count } of { $capacity } here
netcheck-title = Network
netcheck-checking = Checking your network…
netcheck-again = Check again
notice-no-camera = No camera found — others see a test pattern.
notice-camera-unavailable = Camera unavailable ({ $error }) — others see a test pattern.
notice-no-microphone = No microphone found — others hear a test tone.
notice-microphone-unavailable = Microphone unavailable ({ $error }) — others hear a test tone.
link-no-room = that link has no room in it
link-not-kaiwa = that link is not a Kaiwa room link (…/r/CODE)
room-code-length = room code: a room code has 3 to 64 characters
room-code-characters = room code: a room code may only contain letters a-z, digits and dashes
start-host-still-starting = The built-in server is still starting…
start-enter-server-example = Enter the server's address (e.g. wss://host:8443/ws)
server-address-error = Server address: { $error }
server-fingerprint-error = Server fingerprint: { $error }
call-devices-failed = Cannot open the camera or microphone
call-start-failed = Cannot start the call: { $error }
share-open-failed = The screen could not be opened

## The server's refusals (docs/PROTOCOL.md)

error-bad-message = The server did not understand this app's message. Update Kaiwa and try again.
error-bad-room-code = That is not a room code: use 3 to 64 letters a–z, digits and dashes.
error-room-full = This room is full. Try again when someone leaves, or use another room.
error-not-joined = The server had lost track of this call. Join again.
error-already-joined = This connection has already joined a room.
error-unknown-peer = That participant has already left.
error-too-large = A message was too large for the server.
error-rate-limited = Too many messages too fast: the server is slowing this app down.
error-version-mismatch = This app and the server speak different versions. Update Kaiwa.
error-server-full = The server is full right now. Try again in a while.
error-timeout = The server stopped hearing from this app and ended the session.
error-slow-consumer = The connection to the server was too slow to keep up.
error-unavailable = The server cannot reach its room service right now. Reconnecting…
error-unknown = The server refused for a reason this app does not know.

## The call

you = You
call-joining = Joining…
call-you-are-sharing = You are sharing { $what } with everyone here
call-mute = Mute (M)
call-unmute = Unmute (M)
call-camera-off = Camera off (V)
call-camera-on = Camera on (V)
call-stop-sharing = Stop sharing
call-share-screen = Share screen
call-chat = Chat (C)
call-chat-unread = Chat (C) · { $count } new
call-full-screen = Full screen (F)
call-exit-full-screen = Exit full screen (F)
call-leave = Leave (Ctrl+L)
call-waiting-for-others = Waiting for others to join…
call-reconnecting = Reconnecting to the server… ({ $reason }; next try in { $seconds }s)
call-sharing-stopped = Sharing stopped: { $reason }
tile-picture = { $name }'s picture
tile-your-picture = Your picture
tile-screen = { $name }'s screen
tile-camera-off = Camera off
tile-waiting-for-screen = Waiting for the shared screen…
tile-details = { $name }: details and volume
tile-details-hover = Connection { $quality } — click for details and volume
tile-volume = Volume
tile-muted = muted
tile-camera-off-badge = camera off
tile-volume-badge = volume { $percent } %
peer-connecting = Connecting…
peer-reconnecting = Reconnecting…
peer-disconnected = Disconnected
peer-waiting-for-video = Waiting for video…
peer-no-common-video = Video can't be shown: no common video format
quality-measuring = measuring
quality-connecting = connecting
quality-poor = poor
quality-fair = fair
quality-good = good
stats-none = No figures yet
stats-path-relayed-over = relayed (TURN over { $transport })
stats-path-relayed = relayed (TURN)
stats-path-direct-tcp = direct (over TCP)
stats-path-direct = direct
stats-round-trip = Round trip  { $value }
stats-loss = Loss  { $value }
stats-receiving = Receiving  { $value }
stats-video = Video  { $value }
stats-codec = Codec  { $value }
stats-freezes = Freezes  { $value }
stats-connection = Connection  { $value }
stats-verification = Verification code  { $code }
    (the same on their screen: no one is in between)
stats-formats-unknown = unknown
stats-their-formats = Their video formats  { $formats } (none in common)
stats-codec-in-out = { $received } in, { $sent } out
stats-codec-in = { $received } in
stats-codec-out = { $sent } out
chat-title = Chat
chat-hint = Say something…
chat-send = Send
chat-empty = No messages yet.

## Trusting a server

cancel = Cancel
close = Close
trust-check-interrupted = the check was interrupted
trust-check-failed = Cannot check the server's certificate: { $error }
trust-title = Trust this server?
trust-explain = { $server } uses a self-signed certificate: no certificate authority vouches for it. Compare its fingerprint with the one the server shows (its start screen or log) before trusting it. Kaiwa remembers your answer.
trust-fingerprint = SHA-256 fingerprint
trust-trust = Trust
trust-changed-title = Warning: the server's certificate has changed
trust-changed-explain = { $server } now presents a different certificate from the one you trusted. Someone may be impersonating it, or its certificate was replaced. Kaiwa will not connect.
trust-before = Trusted before
trust-now = Presented now
trust-changed-advice = If you know the certificate was replaced, forget the old one and continue again to check the new one.
trust-forget-old = Forget the old fingerprint
trust-no-config-folder = no config folder to remember it in
trust-not-remembered = Trusted for now, but not remembered: { $error }
trust-forgot = Forgot the certificate of { $server }. Continue to check its new one.
trust-forget-failed = Cannot forget the old fingerprint: { $error }
trust-refused = Not connected: the server's certificate was not trusted.
trust-mismatch = Not connected: the server's certificate does not match the one trusted.

## Sharing a screen

share-no-portal = This build has no screen-cast portal.
share-cannot = Cannot share that: { $error }
share-what-you-picked = what you picked
share-no-screen = No screen to share: { $error }
share-screen-n = Screen { $n } ({ $size })
share-entire-screen = Entire screen
share-title = Share your screen
share-explain = Everyone in the call sees what you pick, beside your camera.
share-wayland-unavailable = Screen sharing under Wayland needs the desktop's screen-cast portal, which this build does not have; an X11 capture would only see a black XWayland picture. Log in to an X11 session to share.
language = Language
language-system = System ({ $language })

## The network check (pre-join)

check-no-calls = No calls possible: the server does not answer.
check-direct-likely = Direct calls likely: your network lets calls through.
check-relay-needed = Calls will need the relay: your network blocks direct calls, but the relay works (over { $via }).
check-unchecked = Calls within your network will work; the server offers nothing (STUN, TURN) to check beyond it.
check-no-path = Calls will probably fail: your network blocks direct calls and no relay (TURN) server answered. Ask the server's admin for a TURN server on TCP or TLS port 443.
check-server-answers = Server: answers ({ $ms } ms).
check-server-silent = Server: does not answer ({ $error }).
check-public-address = Public address: { $ip } (as the internet sees you).
check-no-stun-server = Public address: unknown (the server names no STUN server).
check-stun-silent = Public address: unknown, no STUN server answered (UDP seems blocked: direct calls will not work).
check-router-one-for-all = Router: keeps one address for everyone you talk to, so others can reach you directly.
check-router-per-destination = Router: uses a new address for everyone you talk to (a symmetric NAT): direct calls will not work.
check-no-relay = Relay: the server offers none (calls from blocked networks will fail).
check-relay-works = Relay over { $transport }: works.
check-relay-silent = Relay over { $transport }: does not answer ({ $error }).
