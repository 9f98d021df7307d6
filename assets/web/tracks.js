// Which of a peer's incoming video tracks plays as what (the native engine's `peer/remote_tracks.rs`, the
// same rules): the screen is the track whose media stream the peer announced as its screen
// (`{"type":"media","screen":STREAM_ID}`), the camera the newest other track whose stream was never
// announced as a screen. The announcement (data channel) and the track (the offer, through the server)
// may come in either order, so the choice is made again on each. Bounded: a peer offering many tracks
// keeps only its last few.

const KEPT_TRACKS = 4;
const KEPT_SCREENS = 8;

/** A stream id as announced: 1–64 printable ASCII characters, no quotes or backslashes; else null. */
export function announcedStreamId(id) {
  return typeof id === 'string' && /^[\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(id) ? id : null;
}

export class VideoTracks {
  constructor() {
    /** @type {{streamId: string, track: MediaStreamTrack}[]} newest last */
    this.arrived = [];
    this.screen = null;
    this.screens = [];
  }

  /** When too many are kept, the oldest that plays in no role is forgotten (never a live camera). */
  arrivedTrack(streamId, track) {
    if (this.arrived.length === KEPT_TRACKS) {
      const playing = [this.camera(), this.screenTrack()];
      const idle = this.arrived.findIndex((a) => !playing.includes(a.track));
      this.arrived.splice(Math.max(idle, 0), 1);
    }
    this.arrived.push({ streamId, track });
  }

  announced(screen) {
    if (screen && !this.screens.includes(screen)) {
      if (this.screens.length === KEPT_SCREENS) this.screens.shift();
      this.screens.push(screen);
    }
    this.screen = screen;
  }

  /** The track to play as the camera, or null. */
  camera() {
    for (let i = this.arrived.length - 1; i >= 0; i--) {
      if (!this.screens.includes(this.arrived[i].streamId)) return this.arrived[i].track;
    }
    return null;
  }

  /** The track to play as the shared screen, or null. */
  screenTrack() {
    if (!this.screen) return null;
    for (let i = this.arrived.length - 1; i >= 0; i--) {
      if (this.arrived[i].streamId === this.screen) return this.arrived[i].track;
    }
    return null;
  }
}
