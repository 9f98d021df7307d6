# The browser client's text in Japanese. Same messages as en.ftl (which any missing one comes from).

## The language picker

lang-label = 言語
lang-auto = 自動

## Home

home-title = 顔を合わせて話そう。
home-lead = 招待した相手と直接つながるビデオ通話。音声も映像もサーバーを通りません。
home-create = ルームを作成
home-or-join = または既存のルームに参加
home-code-input =
    .placeholder = ルームコードまたはリンク
    .aria-label = ルームコード
home-join = 参加
home-bad-code = このルームコードは無効です。英数字とハイフンで 3〜64 文字にしてください。
home-enter-code = ルームコード（例: abc-defg-hij）を入力するか、招待リンクを貼り付けてください。
home-create-failed = ルームを作成できませんでした（{ $reason }）。サーバーは起動していますか？
home-create-failed-status = ルームを作成できませんでした（サーバーの応答: { $status }）。サーバーは起動していますか？

## Pre-join

prejoin-title = 参加の準備はできましたか？
prejoin-room = ルーム
prejoin-checking-room = ルームを確認中…
prejoin-name = 名前
prejoin-name-input =
    .placeholder = ほかの参加者に表示される名前
prejoin-name-first =
    .placeholder = 先に名前を入力してください
prejoin-camera = カメラ
prejoin-microphone = マイク
prejoin-camera-off = カメラオフ
prejoin-mic-on = マイクオン
    .title = { prejoin-microphone }
prejoin-mic-off = マイクオフ
    .title = { prejoin-microphone }
prejoin-no-mic = マイクなし
    .title = { prejoin-microphone }
prejoin-cam-on = カメラオン
    .title = { prejoin-camera }
prejoin-cam-off = カメラオフ
    .title = { prejoin-camera }
prejoin-no-camera = カメラなし
    .title = { prejoin-camera }
prejoin-join = 今すぐ参加
copy-invite = 招待リンクをコピー
link-copied = リンクをコピーしました
room-full = 満員です（{ $participants } / { $capacity } 人）
room-empty = 0 / { $capacity } 人 · あなたが最初の参加者です
room-count = { $participants } / { $capacity } 人が参加中
room-unreachable = サーバーに接続できません
room-invalid = このルームコードは無効です。

## The network check

net-title = ネットワーク
net-checking = ネットワークを確認中…
net-again = もう一度確認
net-no-server = 通話できません: サーバーが応答しません。
net-server-down = サーバー: 応答なし（{ $reason }）。
net-server-status = サーバー: 応答なし（ステータス { $status }）。
net-direct-likely = 直接通話できる見込みです: ネットワークは通話を通します。
net-relay-needed = 中継が必要です: ネットワークは直接通話を遮断しますが、中継は使えます（{ $via }）。
net-no-path = 通話できない可能性が高いです: ネットワークが直接通話を遮断し、中継（TURN）サーバーも応答しません。
net-unchecked = 同じネットワーク内では通話できます。その外への通信を確かめる手段（STUN、TURN）をサーバーが提供していません。
net-server-ok = サーバー: 応答あり（{ $ms } ms）。
net-public-address = 公開アドレス: { $address }（インターネットから見たアドレス）。
net-no-public-address = 公開アドレス: 不明。STUN サーバーが応答しません（UDP が遮断されているようです）。
net-symmetric = ルーター: 通話相手ごとに別のアドレスを使います（対称型 NAT）。直接通話はできません。
net-no-relay = 中継: サーバーは中継を提供していません。
net-relay-works = { $transport } での中継: 利用できます。
net-relay-silent = { $transport } での中継: 応答しません。

## Camera and microphone ($device: camera, microphone or both)

media-blocked = ブラウザが{ $device ->
        [camera] カメラ
        [microphone] マイク
       *[both] カメラとマイク
    }へのアクセスをブロックしました。サイトの設定（アドレスの左のアイコン）で許可してから、再読み込みしてください。
media-not-found = { $device ->
        [camera] カメラ
        [microphone] マイク
       *[both] カメラまたはマイク
    }が見つかりません。接続するか、なしで参加してください。
media-in-use = { $device ->
        [camera] カメラ
        [microphone] マイク
       *[both] カメラとマイク
    }がほかのアプリで使用中か、起動できませんでした。そのアプリを閉じてから、再読み込みしてください。
media-failed = { $device ->
        [camera] カメラ
        [microphone] マイク
       *[both] カメラとマイク
    }を開けませんでした: { $reason }。
media-failed-plain = { $device ->
        [camera] カメラ
        [microphone] マイク
       *[both] カメラとマイク
    }を開けませんでした。
media-insecure = このページは安全ではない（ネットワークアドレスへの通常の http）ため、ブラウザはカメラやマイクを共有しません。https で開いてください: サーバーを --tls-self-signed 付きで起動する（scripts/run.sh はそうします）か、サーバーを動かしているマシンで http://localhost を使ってください。このままでも参加して見たり聞いたりはできます。
media-unavailable = このページでは使えません
media-camera-n = カメラ { $n }
media-mic-n = マイク { $n }
media-no-cameras = カメラが見つかりません
media-no-mics = マイクが見つかりません

## The call

call-participants =
    .aria-label = 参加者
call-chat-panel =
    .aria-label = チャット
chat-title = チャット
chat-input =
    .placeholder = 全員にメッセージ
    .aria-label = メッセージ
chat-log =
    .data-empty = メッセージは通話の全員に、ブラウザから直接届きます。
chat-send = 送信
chat-you = あなた
call-copy = { $room } · リンクをコピー
    .title = { copy-invite }
call-mute = ミュート
call-unmute = ミュート解除
call-no-mic = マイクなし
call-stop-video = ビデオを停止
call-start-video = ビデオを開始
call-no-camera = カメラなし
call-share = 画面を共有
call-stop-share = 共有を停止
call-chat = チャット
call-full = 全画面
    .title = 全画面表示（タイルをダブルクリックすると大きく固定）
call-exit-full = 全画面を終了
    .title = { call-full.title }
call-leave = 退出
call-count = 通話中 { $count } 人
call-reconnecting = サーバーとの接続が切れました。再接続しています…
reconnecting = 再接続しています…
call-sound-held = ブラウザがこの通話の音声を止めています。
call-sound-on = 音声をオンにする
banner-dismiss = 閉じる
call-no-common-video = 共通の映像形式がないため、映像を表示できません
guest = ゲスト
screen-unsupported = このブラウザは画面を共有できません。
screen-failed = 画面を共有できませんでした: { $reason }

## Tiles

tile-you = { $name }（あなた）
tile-screen = { $name } の画面
tile-muted = ミュート
    .title = マイクオフ
tile-code = 🔒 { $code }
    .title = 確認コード: 相手に読み上げてください。相手のコードと違う場合は、間に誰かが入っています。
tile-volume =
    .aria-label = { $name } の音量
    .title = 音量 { $percent } %
conn-connecting = 接続中
conn-connected = 接続済み
conn-direct = 直接接続
conn-relay = 中継経由で接続
conn-direct-over = 直接接続（{ $transport }）
conn-relay-over = 中継経由で接続（{ $transport }）
conn-reconnecting = 再接続中
conn-failed = 接続失敗
conn-closed = 切断

## Leaving, and calls that end

left-title = 通話から退出しました
left-text = ルーム { $room }
rejoin = 再参加
home-link = ホーム
room-full-title = このルームは満員です
bad-code-title = このルームコードは無効です
update-title = 更新が必要です
retry = もう一度試す
reload = 再読み込み

## The signaling server's error codes (docs/PROTOCOL.md)

error-bad_message = サーバーがこのページからのメッセージを理解できませんでした。
error-bad_room_code = ルームコードは英数字とハイフンで 3〜64 文字です。
error-room_full = 参加できる人数の上限に達しています。誰かが退出したら、もう一度お試しください。
error-not_joined = ルームに参加する前にメッセージが送られました。
error-already_joined = このページはすでにルームに参加しています。
error-unknown_peer = その参加者はもうルームにいません。
error-too_large = メッセージが大きすぎて、サーバーが受け付けませんでした。
error-rate_limited = メッセージが多すぎるため、サーバーがこのページの送信を制限しています。
error-version_mismatch = このページはサーバーより古いバージョンです。再読み込みしてください。
error-server_full = サーバーが現在満杯です。
error-timeout = サーバーがこのページからの応答を受け取れませんでした。
error-slow_consumer = このページがサーバーからのメッセージに追いつけませんでした。
error-unavailable = サーバーが今ルームのサービスに接続できません。
