// A minimal Socket.IO 4 signaling relay, written the way WebRTC tutorials write one: the reference that
// kaiwa-signaling is benchmarked against (scripts/bench-signaling.sh --compare). See README.md.
//
//   node server.js [--host 127.0.0.1] [--port 0] [--max-room-size 8]
//
// Prints "socketio-relay listening on HOST:PORT" once it accepts connections.
"use strict";

const http = require("node:http");
const { Server } = require("socket.io");

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const host = option("host", "127.0.0.1");
const port = Number(option("port", "0"));
const maxRoomSize = Number(option("max-room-size", "8"));

const httpServer = http.createServer();
const io = new Server(httpServer, { transports: ["websocket"] });

io.on("connection", (socket) => {
  // join {room, name}: enter a room of at most maxRoomSize; the joiner gets its id and the others,
  // the others hear about the joiner.
  socket.on("join", (msg) => {
    const room = msg && msg.room;
    if (typeof room !== "string" || room.length === 0) {
      socket.emit("failure", { code: "bad_room_code" });
      return;
    }
    if (socket.data.room !== undefined) {
      socket.emit("failure", { code: "already_joined" });
      return;
    }
    const members = io.sockets.adapter.rooms.get(room);
    if (members && members.size >= maxRoomSize) {
      socket.emit("failure", { code: "room_full" });
      return;
    }
    const peers = [];
    for (const id of members || []) {
      const peer = io.sockets.sockets.get(id);
      if (peer) peers.push({ id, name: peer.data.name });
    }
    socket.data.room = room;
    socket.data.name = String(msg.name || "");
    socket.join(room);
    socket.emit("joined", { id: socket.id, room, peers, maxPeers: maxRoomSize });
    socket.to(room).emit("peer_joined", { peer: { id: socket.id, name: socket.data.name } });
  });

  // signal {to, data}: pass data on to one member of the sender's room, stamped with the sender's id.
  socket.on("signal", (msg) => {
    const target = msg && io.sockets.sockets.get(msg.to);
    if (!target || target === socket || socket.data.room === undefined || target.data.room !== socket.data.room) {
      socket.emit("failure", { code: "unknown_peer" });
      return;
    }
    target.emit("signal", { from: socket.id, data: msg.data });
  });

  const leave = () => {
    const room = socket.data.room;
    if (room === undefined) return;
    socket.data.room = undefined;
    socket.leave(room);
    socket.to(room).emit("peer_left", { id: socket.id });
  };
  socket.on("leave", leave);
  socket.on("disconnecting", leave);
});

httpServer.listen(port, host, () => {
  const addr = httpServer.address();
  console.log(`socketio-relay listening on ${addr.address}:${addr.port}`);
});

const stop = () => io.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
