# Kaiwa desktop app: 한국어. Same message ids as en.ftl (a test checks).

## Shared words

continue = 계속
forget = 삭제
copy-link = 링크 복사
time-of-day = { $ampm ->
        [am] 오전
       *[pm] 오후
    } { $hour12 }:{ $minute }

## Start screen

start-tagline = 데스크톱과 브라우저를 잇는 영상 통화
start-your-name = 이름
start-room = 방
start-room-hint = 코드 또는 링크 https://…/r/CODE
start-create-room = 방 만들기
start-create-failed = 방을 만들 수 없습니다: { $error }
start-room-status-unknown = 방 상태를 알 수 없습니다: { $error }
start-checking-room = 방을 확인하는 중…
start-server = 서버
start-host-here = 이 컴퓨터에서 호스트 (LAN)
start-use-server = 서버 사용
start-hosting-on = 포트 { $port }에서 호스트 중 — 브라우저에서는 방 링크를 여세요.
start-certificate-fingerprint = 인증서 지문 { $fingerprint }
start-host-stale-ice = 내장 서버는 시작할 때의 STUN·TURN 설정을 계속 나눠 주고 있습니다.
start-host-restart = 내장 서버 다시 시작
start-host-restart-hover = 연결된 사람들은 자동으로 다시 연결됩니다
start-host-failed = 내장 서버를 시작할 수 없습니다: { $error }
start-host-starting = 내장 서버를 시작하는 중…
start-pin-hint = 고정할 지문 (선택: 자체 서명 서버는 처음 연결할 때 신뢰 여부를 묻습니다)
start-settings = 네트워크 및 영상 설정
start-checking-certificate = 서버 인증서를 확인하는 중…
start-trusted-certificate = 신뢰한 인증서 { $fingerprint }
start-forget-hover = 다음 연결 때 다시 묻습니다
start-enter-server = 먼저 서버 주소를 입력하세요

## Network and video settings

settings-stun = 추가 STUN 서버 (공백으로 구분)
settings-turn = TURN 서버 (공백으로 구분)
settings-turn-hover = 호스트할 때 내장 서버가 참가자 모두(브라우저 포함)에게 나눠 줍니다
settings-turn-user = TURN 사용자
settings-turn-password = TURN 비밀번호
settings-turn-secret = 또는 호스트할 때: coturn의 static-auth-secret
settings-turn-secret-hover = 내장 서버가 참가자마다 유효 기간이 짧은 TURN 자격 증명을 발급합니다
settings-camera-size = 카메라 해상도
settings-frame-rate = 프레임 속도
settings-fps-suffix = { " " }fps

## Pre-join screen

back = 뒤로
prejoin-ready = 참여할 준비가 되셨나요?
prejoin-room = 방 { $room }
prejoin-starting-camera = 카메라를 켜는 중…
prejoin-preview = 미리보기: { $source }
prejoin-looking-for-devices = 장치를 찾는 중…
prejoin-play-test-sound = 테스트 소리 재생
prejoin-join-now = 지금 참여
device-camera = 카메라
device-microphone = 마이크
device-speaker = 스피커
device-no-camera = 카메라 없음
device-no-microphone = 마이크 없음
device-no-speaker = 스피커 없음
device-system-default = 시스템 기본값
audio-processing = 에코 제거 및 잡음 억제
audio-processing-hover = 스피커를 쓸 때 마이크로 들어가는 상대방 목소리와 일정한 배경 소음을 없앱니다. 음악을 틀거나 헤드폰으로 소리를 그대로 보내고 싶을 때는 끄세요.
room-empty = 아직 아무도 없습니다 (최대 { $capacity }명)
room-full = 방이 가득 찼습니다 ({ $count }/{ $capacity }명)
room-count = { $count }/{ $capacity }명 참여 중
netcheck-title = 네트워크
netcheck-checking = 네트워크를 확인하는 중…
netcheck-again = 다시 확인
notice-no-camera = 카메라를 찾을 수 없습니다 — 상대방에게는 테스트 패턴이 보입니다.
notice-camera-unavailable = 카메라를 쓸 수 없습니다 ({ $error }) — 상대방에게는 테스트 패턴이 보입니다.
notice-no-microphone = 마이크를 찾을 수 없습니다 — 상대방에게는 테스트 소리가 들립니다.
notice-microphone-unavailable = 마이크를 쓸 수 없습니다 ({ $error }) — 상대방에게는 테스트 소리가 들립니다.
link-no-room = 그 링크에는 방이 없습니다
link-not-kaiwa = Kaiwa 방 링크(…/r/CODE)가 아닙니다
room-code-length = 방 코드: 3~64자로 입력하세요
room-code-characters = 방 코드: 영문 소문자 a-z, 숫자, 하이픈만 쓸 수 있습니다
start-host-still-starting = 내장 서버가 아직 시작하는 중입니다…
start-enter-server-example = 서버 주소를 입력하세요 (예: wss://host:8443/ws)
server-address-error = 서버 주소: { $error }
server-fingerprint-error = 서버 지문: { $error }
call-devices-failed = 카메라나 마이크를 열 수 없습니다
call-start-failed = 통화를 시작할 수 없습니다: { $error }
share-open-failed = 화면을 열 수 없습니다

## The server's refusals (docs/PROTOCOL.md)

error-bad-message = 서버가 이 앱의 메시지를 이해하지 못했습니다. Kaiwa를 업데이트한 뒤 다시 시도하세요.
error-bad-room-code = 방 코드가 아닙니다: 영문 소문자 a–z, 숫자, 하이픈으로 3~64자를 쓰세요.
error-room-full = 이 방은 가득 찼습니다. 누군가 나간 뒤 다시 시도하거나 다른 방을 쓰세요.
error-not-joined = 서버가 이 통화를 놓쳤습니다. 다시 참여하세요.
error-already-joined = 이 연결은 이미 방에 참여해 있습니다.
error-unknown-peer = 그 참가자는 이미 나갔습니다.
error-too-large = 서버가 받기에 너무 큰 메시지가 있었습니다.
error-rate-limited = 메시지가 너무 많습니다: 서버가 이 앱의 전송 속도를 늦추고 있습니다.
error-version-mismatch = 이 앱과 서버의 버전이 맞지 않습니다. Kaiwa를 업데이트하세요.
error-server-full = 지금은 서버가 가득 찼습니다. 잠시 뒤에 다시 시도하세요.
error-timeout = 서버가 이 앱의 응답을 받지 못해 세션을 끝냈습니다.
error-slow-consumer = 서버와의 연결이 너무 느려서 따라가지 못했습니다.
error-unavailable = 서버가 지금 방 서비스에 연결할 수 없습니다. 다시 연결하는 중…
error-unknown = 서버가 이 앱이 모르는 이유로 거부했습니다.

## The call

you = 나
call-joining = 참여하는 중…
call-you-are-sharing = { $what }을(를) 모두와 공유하고 있습니다
call-mute = 음소거 (M)
call-unmute = 음소거 해제 (M)
call-camera-off = 카메라 끄기 (V)
call-camera-on = 카메라 켜기 (V)
call-stop-sharing = 공유 중지
call-share-screen = 화면 공유
call-chat = 채팅 (C)
call-chat-unread = 채팅 (C) · 새 메시지 { $count }개
call-full-screen = 전체 화면 (F)
call-exit-full-screen = 전체 화면 종료 (F)
call-leave = 나가기 (Ctrl+L)
call-waiting-for-others = 다른 참가자를 기다리는 중…
call-reconnecting = 서버에 다시 연결하는 중… ({ $reason }, { $seconds }초 뒤 다시 시도)
call-sharing-stopped = 공유가 중지되었습니다: { $reason }
tile-picture = { $name }의 영상
tile-your-picture = 내 영상
tile-screen = { $name }의 화면
tile-camera-off = 카메라가 꺼져 있습니다
tile-waiting-for-screen = 공유 화면을 기다리는 중…
tile-details = { $name }: 세부 정보와 음량
tile-details-hover = 연결 상태 { $quality } — 클릭하면 세부 정보와 음량
tile-volume = 음량
tile-muted = 음소거
tile-camera-off-badge = 카메라 꺼짐
tile-volume-badge = 음량 { $percent } %
peer-connecting = 연결하는 중…
peer-reconnecting = 다시 연결하는 중…
peer-disconnected = 연결이 끊겼습니다
peer-waiting-for-video = 영상을 기다리는 중…
peer-no-common-video = 영상을 표시할 수 없습니다: 공통 영상 형식이 없습니다
quality-measuring = 측정 중
quality-connecting = 연결 중
quality-poor = 나쁨
quality-fair = 보통
quality-good = 좋음
stats-none = 아직 수치가 없습니다
stats-path-relayed-over = 중계 ({ $transport }를 통한 TURN)
stats-path-relayed = 중계 (TURN)
stats-path-direct-tcp = 직접 (TCP)
stats-path-direct = 직접
stats-round-trip = 왕복 시간  { $value }
stats-loss = 손실  { $value }
stats-receiving = 수신  { $value }
stats-video = 영상  { $value }
stats-codec = 코덱  { $value }
stats-freezes = 멈춤  { $value }
stats-connection = 연결  { $value }
stats-verification = 확인 코드  { $code }
    (상대방 화면과 같다면 중간에 아무도 없습니다)
stats-formats-unknown = 알 수 없음
stats-their-formats = 상대방 영상 형식  { $formats } (공통 없음)
stats-codec-in-out = 수신 { $received }, 송신 { $sent }
stats-codec-in = 수신 { $received }
stats-codec-out = 송신 { $sent }
chat-title = 채팅
chat-hint = 메시지를 입력하세요…
chat-send = 보내기
chat-empty = 아직 메시지가 없습니다.

## Trusting a server

cancel = 취소
close = 닫기
trust-check-interrupted = 확인이 중단되었습니다
trust-check-failed = 서버 인증서를 확인할 수 없습니다: { $error }
trust-title = 이 서버를 신뢰할까요?
trust-explain = { $server }은(는) 자체 서명 인증서를 씁니다: 인증 기관의 보증이 없습니다. 신뢰하기 전에 서버가 보여 주는 지문(시작 화면이나 로그)과 비교하세요. Kaiwa는 이 답을 기억합니다.
trust-fingerprint = SHA-256 지문
trust-trust = 신뢰
trust-changed-title = 경고: 서버 인증서가 바뀌었습니다
trust-changed-explain = { $server }이(가) 신뢰했던 것과 다른 인증서를 제시합니다. 누군가 서버를 사칭하고 있거나 인증서가 교체되었습니다. Kaiwa는 연결하지 않습니다.
trust-before = 이전에 신뢰한 인증서
trust-now = 지금 제시된 인증서
trust-changed-advice = 인증서가 교체된 것을 알고 있다면, 이전 것을 삭제하고 다시 '계속'을 눌러 새 인증서를 확인하세요.
trust-forget-old = 이전 지문 삭제
trust-no-config-folder = 기억해 둘 설정 폴더가 없습니다
trust-not-remembered = 이번에는 신뢰했지만 기억하지 못했습니다: { $error }
trust-forgot = { $server }의 인증서를 삭제했습니다. '계속'을 눌러 새 인증서를 확인하세요.
trust-forget-failed = 이전 지문을 삭제할 수 없습니다: { $error }
trust-refused = 연결하지 않았습니다: 서버 인증서를 신뢰하지 않았습니다.
trust-mismatch = 연결하지 않았습니다: 서버 인증서가 신뢰한 것과 일치하지 않습니다.

## Sharing a screen

share-no-portal = 이 빌드에는 화면 공유 포털이 없습니다.
share-cannot = 공유할 수 없습니다: { $error }
share-what-you-picked = 선택한 화면
share-no-screen = 공유할 화면이 없습니다: { $error }
share-screen-n = 화면 { $n } ({ $size })
share-entire-screen = 전체 화면
share-title = 화면 공유
share-explain = 선택한 것이 내 카메라 영상 옆에 통화 참가자 모두에게 보입니다.
share-wayland-unavailable = Wayland에서 화면을 공유하려면 데스크톱의 화면 공유 포털이 필요한데, 이 빌드에는 없습니다. X11로 캡처하면 XWayland의 검은 화면만 보입니다. 공유하려면 X11 세션으로 로그인하세요.
language = 언어
language-system = 시스템 ({ $language })

## The network check (pre-join)

check-no-calls = 통화할 수 없습니다: 서버가 응답하지 않습니다.
check-direct-likely = 직접 통화가 될 것 같습니다: 이 네트워크는 통화를 통과시킵니다.
check-relay-needed = 통화에 중계가 필요합니다: 이 네트워크는 직접 통화를 막지만 중계는 됩니다 ({ $via } 경유).
check-unchecked = 같은 네트워크 안의 통화는 됩니다. 서버가 그 너머를 확인할 수단(STUN, TURN)을 제공하지 않습니다.
check-no-path = 통화가 아마 실패할 것입니다: 이 네트워크는 직접 통화를 막고, 중계(TURN) 서버도 응답하지 않습니다. 서버 관리자에게 TCP 또는 TLS 포트 443의 TURN 서버를 요청하세요.
check-server-answers = 서버: 응답함 ({ $ms } ms).
check-server-silent = 서버: 응답 없음 ({ $error }).
check-public-address = 공인 주소: { $ip } (인터넷에서 보이는 내 주소).
check-no-stun-server = 공인 주소: 알 수 없음 (서버가 STUN 서버를 지정하지 않음).
check-stun-silent = 공인 주소: 알 수 없음, 응답한 STUN 서버가 없습니다 (UDP가 막힌 것 같습니다: 직접 통화는 되지 않습니다).
check-router-one-for-all = 라우터: 누구와 통화하든 같은 주소를 써서 상대가 직접 연결할 수 있습니다.
check-router-per-destination = 라우터: 상대마다 새 주소를 씁니다(대칭형 NAT): 직접 통화는 되지 않습니다.
check-no-relay = 중계: 서버가 제공하지 않습니다 (막힌 네트워크에서의 통화는 실패합니다).
check-relay-works = { $transport } 중계: 작동합니다.
check-relay-silent = { $transport } 중계: 응답 없음 ({ $error }).
