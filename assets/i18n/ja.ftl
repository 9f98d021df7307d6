# Kaiwa desktop app: 日本語. Same message ids as en.ftl (a test checks).

## Shared words

continue = 次へ
forget = 削除
copy-link = リンクをコピー
time-of-day = { $hour }:{ $minute }

## Start screen

start-tagline = デスクトップとブラウザをつなぐビデオ通話
start-your-name = 名前
start-room = ルーム
start-room-hint = コード、またはリンク https://…/r/CODE
start-create-room = ルームを作成
start-create-failed = ルームを作成できませんでした: { $error }
start-room-status-unknown = ルームの状態がわかりません: { $error }
start-checking-room = ルームを確認しています…
start-server = サーバー
start-host-here = このコンピューターでホストする (LAN)
start-use-server = サーバーを使う
start-hosting-on = ポート { $port } でホスト中 — ブラウザではルームのリンクを開いてください。
start-certificate-fingerprint = 証明書のフィンガープリント { $fingerprint }
start-host-stale-ice = 内蔵サーバーは起動時の STUN・TURN 設定を配り続けています。
start-host-restart = 内蔵サーバーを再起動
start-host-restart-hover = 接続中の人は自動で再接続します
start-host-failed = 内蔵サーバーを起動できませんでした: { $error }
start-host-starting = 内蔵サーバーを起動しています…
start-pin-hint = 固定するフィンガープリント (任意: 自己署名のサーバーは初回接続時に信頼を確認します)
start-settings = ネットワークとビデオの設定
start-checking-certificate = サーバーの証明書を確認しています…
start-trusted-certificate = 信頼済みの証明書 { $fingerprint }
start-forget-hover = 次の接続で再度確認します
start-enter-server = 先にサーバーのアドレスを入力してください

## Network and video settings

settings-stun = 追加の STUN サーバー (スペース区切り)
settings-turn = TURN サーバー (スペース区切り)
settings-turn-hover = ホスト時は、内蔵サーバーが参加者全員 (ブラウザも) にこれを配ります
settings-turn-user = TURN ユーザー
settings-turn-password = TURN パスワード
settings-turn-secret = またはホスト時: coturn の static-auth-secret
settings-turn-secret-hover = 内蔵サーバーが参加者ごとに有効期限の短い TURN 認証情報を発行します
settings-camera-size = カメラの解像度
settings-frame-rate = フレームレート
settings-fps-suffix = { " " }fps

## Pre-join screen

back = 戻る
prejoin-ready = 参加の準備はできましたか?
prejoin-room = ルーム { $room }
prejoin-starting-camera = カメラを起動しています…
prejoin-preview = プレビュー: { $source }
prejoin-looking-for-devices = デバイスを探しています…
prejoin-play-test-sound = テスト音を再生
prejoin-join-now = 今すぐ参加
device-camera = カメラ
device-microphone = マイク
device-speaker = スピーカー
device-no-camera = カメラなし
device-no-microphone = マイクなし
device-no-speaker = スピーカーなし
device-system-default = システムの既定
audio-processing = エコーキャンセルとノイズ抑制
audio-processing-hover = スピーカー使用時にマイクに入る相手の声と、一定の背景ノイズを取り除きます。音楽を流すときや、ヘッドホンで音をそのまま送りたいときはオフにしてください。
room-empty = まだ誰もいません (最大 { $capacity } 人)
room-full = 満室です ({ $count }/{ $capacity } 人)
room-count = { $count }/{ $capacity } 人が参加中
netcheck-title = ネットワーク
netcheck-checking = ネットワークを確認しています…
netcheck-again = もう一度確認
notice-no-camera = カメラが見つかりません — 相手にはテストパターンが表示されます。
notice-camera-unavailable = カメラを使えません ({ $error }) — 相手にはテストパターンが表示されます。
notice-no-microphone = マイクが見つかりません — 相手にはテスト音が聞こえます。
notice-microphone-unavailable = マイクを使えません ({ $error }) — 相手にはテスト音が聞こえます。
link-no-room = そのリンクにはルームが含まれていません
link-not-kaiwa = Kaiwa のルームのリンク (…/r/CODE) ではありません
room-code-length = ルームコード: 3〜64 文字にしてください
room-code-characters = ルームコード: 使えるのは英小文字 a-z、数字、ハイフンだけです
start-host-still-starting = 内蔵サーバーはまだ起動中です…
start-enter-server-example = サーバーのアドレスを入力してください (例: wss://host:8443/ws)
server-address-error = サーバーのアドレス: { $error }
server-fingerprint-error = サーバーのフィンガープリント: { $error }
call-devices-failed = カメラまたはマイクを開けません
call-start-failed = 通話を開始できません: { $error }
share-open-failed = 画面を開けませんでした

## The server's refusals (docs/PROTOCOL.md)

error-bad-message = サーバーがこのアプリのメッセージを理解できませんでした。Kaiwa を更新してもう一度お試しください。
error-bad-room-code = ルームコードではありません: 英小文字 a–z、数字、ハイフンで 3〜64 文字にしてください。
error-room-full = このルームは満室です。誰かが退出してからもう一度試すか、別のルームを使ってください。
error-not-joined = サーバーがこの通話を見失いました。もう一度参加してください。
error-already-joined = この接続はすでにルームに参加しています。
error-unknown-peer = その参加者はすでに退出しました。
error-too-large = サーバーにとって大きすぎるメッセージがありました。
error-rate-limited = メッセージが多すぎます: サーバーがこのアプリの送信を抑えています。
error-version-mismatch = このアプリとサーバーのバージョンが合いません。Kaiwa を更新してください。
error-server-full = サーバーが混み合っています。しばらくしてからお試しください。
error-timeout = サーバーがこのアプリからの応答を受け取れず、セッションを終了しました。
error-slow-consumer = サーバーへの接続が遅すぎて、追いつけませんでした。
error-unavailable = サーバーが今ルームのサービスに接続できません。再接続しています…
error-unknown = サーバーが、このアプリの知らない理由で拒否しました。

## The call

you = あなた
call-joining = 参加しています…
call-you-are-sharing = { $what } を全員と共有しています
call-mute = ミュート (M)
call-unmute = ミュート解除 (M)
call-camera-off = カメラをオフ (V)
call-camera-on = カメラをオン (V)
call-stop-sharing = 共有を停止
call-share-screen = 画面を共有
call-chat = チャット (C)
call-chat-unread = チャット (C) · 新着 { $count } 件
call-full-screen = 全画面 (F)
call-exit-full-screen = 全画面を終了 (F)
call-leave = 退出 (Ctrl+L)
call-waiting-for-others = 他の参加者を待っています…
call-reconnecting = サーバーに再接続しています… ({ $reason }、{ $seconds } 秒後に再試行)
call-sharing-stopped = 共有が停止しました: { $reason }
tile-picture = { $name } の映像
tile-your-picture = あなたの映像
tile-screen = { $name } の画面
tile-camera-off = カメラはオフです
tile-waiting-for-screen = 共有画面を待っています…
tile-details = { $name }: 詳細と音量
tile-details-hover = 接続は{ $quality } — クリックで詳細と音量
tile-volume = 音量
tile-muted = ミュート中
tile-camera-off-badge = カメラオフ
tile-volume-badge = 音量 { $percent } %
peer-connecting = 接続しています…
peer-reconnecting = 再接続しています…
peer-disconnected = 切断されました
peer-waiting-for-video = 映像を待っています…
peer-no-common-video = 映像を表示できません: 共通のビデオ形式がありません
quality-measuring = 計測中
quality-connecting = 接続中
quality-poor = 不良
quality-fair = まずまず
quality-good = 良好
stats-none = まだ数値がありません
stats-path-relayed-over = 中継 ({ $transport } 経由の TURN)
stats-path-relayed = 中継 (TURN)
stats-path-direct-tcp = 直接 (TCP)
stats-path-direct = 直接
stats-round-trip = 往復時間  { $value }
stats-loss = 損失  { $value }
stats-receiving = 受信  { $value }
stats-video = 映像  { $value }
stats-codec = コーデック  { $value }
stats-freezes = 停止  { $value }
stats-connection = 接続  { $value }
stats-verification = 確認コード  { $code }
    (相手の画面と同じなら、間に誰もいません)
stats-formats-unknown = 不明
stats-their-formats = 相手のビデオ形式  { $formats } (共通なし)
stats-codec-in-out = 受信 { $received }、送信 { $sent }
stats-codec-in = 受信 { $received }
stats-codec-out = 送信 { $sent }
chat-title = チャット
chat-hint = メッセージを入力…
chat-send = 送信
chat-empty = まだメッセージはありません。

## Trusting a server

cancel = キャンセル
close = 閉じる
trust-check-interrupted = 確認が中断されました
trust-check-failed = サーバーの証明書を確認できません: { $error }
trust-title = このサーバーを信頼しますか?
trust-explain = { $server } は自己署名の証明書を使っています: 認証局による保証はありません。信頼する前に、サーバーが表示するフィンガープリント (開始画面やログ) と照らし合わせてください。Kaiwa はこの答えを記憶します。
trust-fingerprint = SHA-256 フィンガープリント
trust-trust = 信頼する
trust-changed-title = 警告: サーバーの証明書が変わりました
trust-changed-explain = { $server } が、信頼した証明書とは異なる証明書を提示しています。なりすましの可能性があるか、証明書が差し替えられました。Kaiwa は接続しません。
trust-before = 以前に信頼した証明書
trust-now = 現在の証明書
trust-changed-advice = 証明書が差し替えられたとわかっている場合は、古いものを削除してから、もう一度「次へ」で新しい証明書を確認してください。
trust-forget-old = 古いフィンガープリントを削除
trust-no-config-folder = 記憶するための設定フォルダーがありません
trust-not-remembered = 今回は信頼しましたが、記憶できませんでした: { $error }
trust-forgot = { $server } の証明書を削除しました。「次へ」で新しい証明書を確認してください。
trust-forget-failed = 古いフィンガープリントを削除できません: { $error }
trust-refused = 接続していません: サーバーの証明書を信頼しませんでした。
trust-mismatch = 接続していません: サーバーの証明書が信頼したものと一致しません。

## Sharing a screen

share-no-portal = このビルドには画面共有ポータルがありません。
share-cannot = 共有できません: { $error }
share-what-you-picked = 選択した画面
share-no-screen = 共有できる画面がありません: { $error }
share-screen-n = 画面 { $n } ({ $size })
share-entire-screen = 画面全体
share-title = 画面を共有
share-explain = 選んだものが、あなたのカメラ映像と並んで通話の全員に表示されます。
share-wayland-unavailable = Wayland で画面を共有するにはデスクトップの画面共有ポータルが必要ですが、このビルドにはありません。X11 で取り込むと XWayland の黒い画面しか映りません。共有するには X11 セッションでログインしてください。
language = 言語
language-system = システム ({ $language })

## The network check (pre-join)

check-no-calls = 通話できません: サーバーが応答しません。
check-direct-likely = 直接通話できそうです: このネットワークは通話を通します。
check-relay-needed = 通話には中継が必要です: このネットワークは直接通話を遮断しますが、中継は使えます ({ $via } 経由)。
check-unchecked = 同じネットワーク内の通話はできます。サーバーがその先を確かめる手段 (STUN、TURN) を提供していません。
check-no-path = 通話はおそらく失敗します: このネットワークは直接通話を遮断し、中継 (TURN) サーバーも応答しません。サーバーの管理者に TCP または TLS のポート 443 の TURN サーバーを頼んでください。
check-server-answers = サーバー: 応答あり ({ $ms } ms)。
check-server-silent = サーバー: 応答なし ({ $error })。
check-public-address = 公開アドレス: { $ip } (インターネットから見たあなた)。
check-no-stun-server = 公開アドレス: 不明 (サーバーが STUN サーバーを指定していません)。
check-stun-silent = 公開アドレス: 不明、STUN サーバーが応答しません (UDP が遮断されているようです: 直接通話はできません)。
check-router-one-for-all = ルーター: 相手が誰でも同じアドレスを使うので、相手から直接つながります。
check-router-per-destination = ルーター: 相手ごとに新しいアドレスを使います (対称型 NAT): 直接通話はできません。
check-no-relay = 中継: サーバーが提供していません (遮断されたネットワークからの通話は失敗します)。
check-relay-works = { $transport } 経由の中継: 使えます。
check-relay-silent = { $transport } 経由の中継: 応答なし ({ $error })。
