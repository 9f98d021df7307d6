# The browser client's text in Korean. Same messages as en.ftl (which any missing one comes from).

## The language picker

lang-label = 언어
lang-auto = 자동

## Home

home-title = 얼굴을 마주하고 이야기하세요.
home-lead = 초대한 사람과 직접 연결되는 화상 통화. 음성과 영상은 서버를 거치지 않습니다.
home-create = 방 만들기
home-or-join = 또는 방에 참여하기
home-code-input =
    .placeholder = 방 코드 또는 링크
    .aria-label = 방 코드
home-join = 참여
home-bad-code = 유효하지 않은 방 코드입니다. 영문자, 숫자, 대시로 3~64자를 입력하세요.
home-enter-code = 방 코드(예: abc-defg-hij)를 입력하거나 초대 링크를 붙여 넣으세요.
home-create-failed = 방을 만들 수 없습니다({ $reason }). 서버가 실행 중인가요?
home-create-failed-status = 방을 만들 수 없습니다(서버 응답: { $status }). 서버가 실행 중인가요?

## Pre-join

prejoin-title = 참여할 준비가 되셨나요?
prejoin-room = 방
prejoin-checking-room = 방 확인 중…
prejoin-name = 이름
prejoin-name-input =
    .placeholder = 다른 사람에게 보이는 이름
prejoin-name-first =
    .placeholder = 먼저 이름을 입력하세요
prejoin-camera = 카메라
prejoin-microphone = 마이크
prejoin-camera-off = 카메라 꺼짐
prejoin-mic-on = 마이크 켜짐
    .title = { prejoin-microphone }
prejoin-mic-off = 마이크 꺼짐
    .title = { prejoin-microphone }
prejoin-no-mic = 마이크 없음
    .title = { prejoin-microphone }
prejoin-cam-on = 카메라 켜짐
    .title = { prejoin-camera }
prejoin-cam-off = 카메라 꺼짐
    .title = { prejoin-camera }
prejoin-no-camera = 카메라 없음
    .title = { prejoin-camera }
prejoin-join = 지금 참여
copy-invite = 초대 링크 복사
link-copied = 링크를 복사했습니다
room-full = 방이 가득 찼습니다({ $participants }/{ $capacity }명)
room-empty = 0/{ $capacity }명 참여 중 · 첫 번째 참여자가 됩니다
room-count = { $participants }/{ $capacity }명 참여 중
room-unreachable = 서버에 연결할 수 없습니다
room-invalid = 유효하지 않은 방 코드입니다.

## The network check

net-title = 네트워크
net-checking = 네트워크 확인 중…
net-again = 다시 확인
net-no-server = 통화할 수 없습니다: 서버가 응답하지 않습니다.
net-server-down = 서버: 응답 없음({ $reason }).
net-server-status = 서버: 응답 없음(상태 { $status }).
net-direct-likely = 직접 통화가 가능할 것 같습니다: 네트워크가 통화를 허용합니다.
net-relay-needed = 중계가 필요합니다: 네트워크가 직접 통화를 막지만 중계는 작동합니다({ $via }).
net-no-path = 통화가 실패할 가능성이 높습니다: 네트워크가 직접 통화를 막고 중계(TURN) 서버도 응답하지 않습니다.
net-unchecked = 같은 네트워크 안에서는 통화할 수 있습니다. 서버가 그 밖을 확인할 수단(STUN, TURN)을 제공하지 않습니다.
net-server-ok = 서버: 응답함({ $ms } ms).
net-public-address = 공인 주소: { $address }(인터넷에서 보이는 주소).
net-no-public-address = 공인 주소: 알 수 없음. STUN 서버가 응답하지 않습니다(UDP가 막힌 것 같습니다).
net-symmetric = 라우터: 통화 상대마다 다른 주소를 사용합니다(대칭형 NAT). 직접 통화는 할 수 없습니다.
net-no-relay = 중계: 서버가 제공하지 않습니다.
net-relay-works = { $transport } 중계: 작동함.
net-relay-silent = { $transport } 중계: 응답 없음.

## Camera and microphone ($device: camera, microphone or both)

media-blocked = 브라우저가 { $device ->
        [camera] 카메라
        [microphone] 마이크
       *[both] 카메라와 마이크
    } 접근을 차단했습니다. 사이트 설정(주소 왼쪽의 아이콘)에서 허용한 뒤 새로고침하세요.
media-not-found = { $device ->
        [camera] 카메라를
        [microphone] 마이크를
       *[both] 카메라나 마이크를
    } 찾을 수 없습니다. 연결하거나 없이 참여하세요.
media-in-use = { $device ->
        [camera] 카메라를
        [microphone] 마이크를
       *[both] 카메라와 마이크를
    } 다른 앱이 사용 중이거나 시작할 수 없습니다. 그 앱을 닫고 새로고침하세요.
media-failed = { $device ->
        [camera] 카메라를
        [microphone] 마이크를
       *[both] 카메라와 마이크를
    } 열 수 없습니다: { $reason }.
media-failed-plain = { $device ->
        [camera] 카메라를
        [microphone] 마이크를
       *[both] 카메라와 마이크를
    } 열 수 없습니다.
media-insecure = 이 페이지는 안전하지 않아(네트워크 주소로 접속한 일반 http) 브라우저가 카메라와 마이크를 공유하지 않습니다. https로 여세요: 서버를 --tls-self-signed로 시작하거나(scripts/run.sh가 그렇게 합니다) 서버가 실행 중인 컴퓨터에서 http://localhost를 사용하세요. 이대로도 참여해서 보고 들을 수는 있습니다.
media-unavailable = 이 페이지에서는 사용할 수 없음
media-camera-n = 카메라 { $n }
media-mic-n = 마이크 { $n }
media-no-cameras = 카메라를 찾을 수 없음
media-no-mics = 마이크를 찾을 수 없음

## The call

call-participants =
    .aria-label = 참여자
call-chat-panel =
    .aria-label = 채팅
chat-title = 채팅
chat-input =
    .placeholder = 모두에게 메시지 보내기
    .aria-label = 메시지
chat-log =
    .data-empty = 메시지는 통화 중인 모두에게 브라우저에서 바로 전달됩니다.
chat-send = 보내기
chat-you = 나
call-copy = { $room } · 링크 복사
    .title = { copy-invite }
call-mute = 음소거
call-unmute = 음소거 해제
call-no-mic = 마이크 없음
call-stop-video = 비디오 중지
call-start-video = 비디오 시작
call-no-camera = 카메라 없음
call-share = 화면 공유
call-stop-share = 공유 중지
call-chat = 채팅
call-full = 전체 화면
    .title = 전체 화면(타일을 두 번 클릭하면 크게 고정)
call-exit-full = 전체 화면 종료
    .title = { call-full.title }
call-leave = 나가기
call-count = 통화 중 { $count }명
call-reconnecting = 서버와 연결이 끊겼습니다. 다시 연결하는 중…
reconnecting = 다시 연결하는 중…
call-sound-held = 브라우저가 이 통화의 소리를 막았습니다.
call-sound-on = 소리 켜기
banner-dismiss = 닫기
call-no-common-video = 공통 영상 형식이 없어 영상을 표시할 수 없습니다
guest = 게스트
screen-unsupported = 이 브라우저는 화면을 공유할 수 없습니다.
screen-failed = 화면을 공유할 수 없습니다: { $reason }

## Tiles

tile-you = { $name }(나)
tile-screen = { $name }님의 화면
tile-muted = 음소거
    .title = 마이크 꺼짐
tile-code = 🔒 { $code }
    .title = 확인 코드: 상대에게 읽어 주세요. 상대의 코드와 다르면 중간에 누군가 있습니다.
tile-volume =
    .aria-label = { $name } 음량
    .title = 음량 { $percent }%
conn-connecting = 연결 중
conn-connected = 연결됨
conn-direct = 직접 연결됨
conn-relay = 중계로 연결됨
conn-direct-over = 직접 연결됨({ $transport })
conn-relay-over = 중계로 연결됨({ $transport })
conn-reconnecting = 다시 연결 중
conn-failed = 연결 실패
conn-closed = 연결 끊김

## Leaving, and calls that end

left-title = 통화에서 나왔습니다
left-text = 방 { $room }
rejoin = 다시 참여
home-link = 홈
room-full-title = 이 방은 가득 찼습니다
bad-code-title = 유효하지 않은 방 코드입니다
update-title = 업데이트가 필요합니다
retry = 다시 시도
reload = 새로고침

## The signaling server's error codes (docs/PROTOCOL.md)

error-bad_message = 서버가 이 페이지의 메시지를 이해하지 못했습니다.
error-bad_room_code = 방 코드는 영문자, 숫자, 대시로 된 3~64자입니다.
error-room_full = 방에 들어갈 수 있는 최대 인원이 이미 찼습니다. 누군가 나가면 다시 시도하세요.
error-not_joined = 방에 참여하기 전에 메시지를 보냈습니다.
error-already_joined = 이 페이지는 이미 방에 참여해 있습니다.
error-unknown_peer = 그 참여자는 더 이상 방에 없습니다.
error-too_large = 메시지가 너무 커서 서버가 받지 않았습니다.
error-rate_limited = 메시지를 너무 많이 보내서 서버가 이 페이지를 제한하고 있습니다.
error-version_mismatch = 이 페이지가 서버보다 오래된 버전입니다. 새로고침하세요.
error-server_full = 지금은 서버가 가득 찼습니다.
error-timeout = 서버가 이 페이지의 응답을 받지 못했습니다.
error-slow_consumer = 이 페이지가 서버의 메시지를 따라가지 못했습니다.
error-unavailable = 서버가 지금 방 서비스에 연결할 수 없습니다.
