/**
 * The raw baseline server: node:net, length-prefixed frames (bench/lib/raw-frame.ts), every
 * request answered with a response carrying the same body. It is meant as the practical ceiling
 * of a Node server, so it does only what any framed protocol must, and nothing more:
 *
 * - frames are parsed straight from each read, never copied into an accumulation buffer;
 * - a request that lies whole in the read becomes its own response in place (only the kind
 *   byte changes), so back-to-back requests become one contiguous response range;
 * - all responses produced by one read leave in ONE write (a single buffer, or one writev via
 *   cork/uncork), the coalescing DESIGN.md names as the largest lever for pipelined calls;
 * - a frame split across reads (always the case for 1 MiB bodies) is answered with a fresh
 *   header plus references to its body pieces: no copy of the body.
 *
 * No write back-pressure: the clients bound what is in flight, so queued responses are bounded.
 *
 * Usage: node dist/bench/raw/server.js [--host 127.0.0.1] [--port 0]
 */
import * as net from "node:net";
import { KIND_REQUEST, KIND_RESPONSE, RAW_HEADER_BYTES } from "../lib/raw-frame.js";
import { announceListening, parseListenArgs, stopOnRequest } from "../lib/server-lifecycle.js";

let requests = 0;
let onewayFrames = 0;

/** Per-connection parser state for the one frame that may span reads. */
class RawConnection {
  /** Header bytes of a frame split across reads (allocated per such frame: it is written out). */
  private header: Buffer | null = null;
  private headerFill = 0;
  /** Body bytes still to come of the split frame, and the pieces seen so far. */
  private bodyLeft = 0;
  private bodyPieces: Buffer[] = [];

  constructor(private readonly socket: net.Socket) {
    // Pipelined echo is latency-bound: never let Nagle hold back a small response.
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", () => socket.destroy());
  }

  private onData(chunk: Buffer): void {
    const out: Buffer[] = [];
    const length = chunk.length;
    let offset = 0;
    // Start of the current run of in-place responses in `chunk`, or -1.
    let runStart = -1;
    while (offset < length) {
      if (this.header === null) {
        // At a frame boundary. Fast path: the whole frame is in this read.
        if (length - offset >= RAW_HEADER_BYTES) {
          const frameEnd = offset + 4 + chunk.readUInt32BE(offset);
          if (frameEnd <= length) {
            if (chunk[offset + 4] === KIND_REQUEST) {
              // The read buffer is ours (Node allocates one per read): answer in place.
              chunk[offset + 4] = KIND_RESPONSE;
              requests++;
              if (runStart < 0) runStart = offset;
            } else {
              onewayFrames++;
              if (runStart >= 0) out.push(chunk.subarray(runStart, offset));
              runStart = -1;
            }
            offset = frameEnd;
            continue;
          }
        }
        // This frame runs past the read: close the run and collect it piece by piece.
        if (runStart >= 0) out.push(chunk.subarray(runStart, offset));
        runStart = -1;
        this.header = Buffer.allocUnsafe(RAW_HEADER_BYTES);
        this.headerFill = 0;
      }
      if (this.headerFill < RAW_HEADER_BYTES) {
        const take = Math.min(RAW_HEADER_BYTES - this.headerFill, length - offset);
        chunk.copy(this.header, this.headerFill, offset, offset + take);
        this.headerFill += take;
        offset += take;
        if (this.headerFill === RAW_HEADER_BYTES) this.bodyLeft = this.header.readUInt32BE(0) - 1;
      } else {
        const take = Math.min(this.bodyLeft, length - offset);
        this.bodyPieces.push(chunk.subarray(offset, offset + take));
        this.bodyLeft -= take;
        offset += take;
      }
      if (this.headerFill === RAW_HEADER_BYTES && this.bodyLeft === 0) this.finishSplitFrame(out);
    }
    if (runStart >= 0) out.push(chunk.subarray(runStart, offset));
    this.write(out);
  }

  /** Answers the frame that spanned reads: its header, then its body pieces by reference. */
  private finishSplitFrame(out: Buffer[]): void {
    const header = this.header!;
    if (header[4] === KIND_REQUEST) {
      header[4] = KIND_RESPONSE;
      requests++;
      out.push(header);
      for (const piece of this.bodyPieces) out.push(piece);
    } else {
      onewayFrames++;
    }
    this.header = null;
    this.bodyPieces = [];
  }

  /** One write per read: a single buffer as is, several as one writev. */
  private write(out: Buffer[]): void {
    if (out.length === 1) {
      this.socket.write(out[0]!);
    } else if (out.length > 1) {
      this.socket.cork();
      for (const piece of out) this.socket.write(piece);
      this.socket.uncork();
    }
  }
}

const { host, port } = parseListenArgs(process.argv.slice(2));
const server = net.createServer((socket) => new RawConnection(socket));
server.listen(port, host, () => {
  const address = server.address() as net.AddressInfo;
  announceListening(address.address, address.port);
});
stopOnRequest(() => ({ requests, onewayFrames }));
