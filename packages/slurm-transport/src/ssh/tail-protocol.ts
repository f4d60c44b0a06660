import { SlurmTransportError } from '../errors.js';

// The framed protocol of `tailRemoteFiles`: one remote bash loop follows several files and writes
// frames to stdout, the client parses them. I/O-free, like ssh2's protocol core.
//
//   H <version> <poll|inotify>\n          once, when the loop has started
//   D <index> <offset> <length>\n<bytes>  exactly <length> bytes of file <index> from byte <offset>
//   T <index> <size>\n                    file <index> shrank below the offset; following goes on from <size>
//   E <index>\n                           file <index> exists but cannot be opened (reported once)
//
// Per round the loop forks one `stat` for all open files and one `dd` per file with new bytes (at
// most one round per 10 ms while a writer keeps appending, unless a read was cut at the chunk
// size), nothing when idle except the sleep, which is a `read -t` on stdin (no fork): when the client
// closes the channel stdin hits EOF and the loop exits. Files are followed by open descriptor once
// they exist (like `tail -f` after the first open); `dd conv=sync` pads a read cut short by a
// concurrent truncation, so a frame is always exactly <length> bytes and the stream never desyncs.
// With `inotifywait` present, local writes wake the loop early; on cluster file systems writes
// from compute nodes raise no inotify events, so polling with backoff always stays on.

/** Version written in the `H` frame; the client refuses others. */
export const TAIL_PROTOCOL_VERSION = 1;

/** The remote loop, run as `bash -c TAIL_SCRIPT tail <minMs> <maxMs> <maxChunk> <inotify 0|1> (<path> <offset>)...`. */
export const TAIL_SCRIPT = `
set -u
trap '' PIPE
min=$1 max=$2 cap=$3 ino=$4
shift 4
n=$(($# / 2)) paths=() offs=() fds=() errs=() wfd=0 mode=poll
for ((i = 0; i < n; i++)); do paths[i]=$1 offs[i]=$2 fds[i]=0 errs[i]=0; shift 2; done
if ((ino)) && command -v inotifywait >/dev/null 2>&1; then
  dirs=()
  for p in "\${paths[@]}"; do
    d=.; [[ $p == */* ]] && d=\${p%/*}; [[ -z $d ]] && d=/
    [[ -d $d ]] && dirs+=("$d")
  done
  if ((\${#dirs[@]})); then
    exec {wfd}< <(exec inotifywait -m -q -e modify,attrib,close_write,create,moved_to --format x -- "\${dirs[@]}" 2>/dev/null)
    ipid=$! mode=inotify
    trap 'kill $ipid 2>/dev/null' EXIT
  fi
fi
printf 'H 1 %s\\n' "$mode" || exit 0
delay=$min
while :; do
  list=() idx=()
  for ((i = 0; i < n; i++)); do
    if ((fds[i] == 0)); then
      [[ -e \${paths[i]} ]] || continue
      if { exec {f}<"\${paths[i]}"; } 2>/dev/null; then
        fds[i]=$f
      else
        ((errs[i])) || printf 'E %d\\n' "$i" || exit 0
        errs[i]=1
        continue
      fi
    fi
    list+=("/dev/fd/\${fds[i]}") idx+=("$i")
  done
  busy=0 capped=0
  if ((\${#list[@]})); then
    sizes=($(stat -L -c %s -- "\${list[@]}"))
    if ((\${#sizes[@]} == \${#list[@]})); then
      for ((k = 0; k < \${#idx[@]}; k++)); do
        i=\${idx[k]} s=\${sizes[k]} o=\${offs[i]}
        if ((s > o)); then
          len=$((s - o))
          ((len > cap)) && len=$cap capped=1
          printf 'D %d %d %d\\n' "$i" "$o" "$len" || exit 0
          dd if="/dev/fd/\${fds[i]}" bs="$len" count=1 skip="$o" iflag=skip_bytes,fullblock conv=sync,noerror status=none || exit 0
          offs[i]=$((o + len)) busy=1
        elif ((s < o)); then
          printf 'T %d %d\\n' "$i" "$s" || exit 0
          offs[i]=$s busy=1
        fi
      done
    fi
  fi
  if ((busy)); then
    delay=$min
    if ((capped)); then
      if read -t 0 -u 0; then read -r -u 0 _ || exit 0; fi
    else
      # Caught up with a writer that keeps appending: let 10 ms of its writes gather rather than
      # fork stat and dd for each one (on a login node, or here, the CPU is shared with the job).
      read -r -t 0.010 -u 0 _
      (($? == 1)) && exit 0
    fi
    continue
  fi
  printf -v t '%d.%03d' $((delay / 1000)) $((delay % 1000))
  if ((wfd)); then
    read -r -t "$t" -u "$wfd" _
    if (($? == 1)); then exec {wfd}<&-; wfd=0; fi
    while ((wfd)) && read -t 0 -u "$wfd"; do read -r -u "$wfd" _ || break; done
    if read -t 0 -u 0; then read -r -u 0 _ || exit 0; fi
  else
    read -r -t "$t" -u 0 _
    (($? == 1)) && exit 0
  fi
  delay=$((delay * 2))
  ((delay > max)) && delay=$max
done
`;

/** One parsed frame; see the protocol description at the top of this file. */
export type TailFrame =
  | { type: 'hello'; version: number; mode: 'poll' | 'inotify' }
  | { type: 'data'; index: number; offset: number; chunk: Buffer }
  | { type: 'truncated'; index: number; size: number }
  | { type: 'unreadable'; index: number };

const MAX_HEADER_BYTES = 128;
const NEWLINE = 0x0a;

/** Chunk-safe parser of the tail stream: `push()` any slice of bytes, get the completed frames. */
export class TailFrameParser {
  #header: Buffer[] = [];
  #headerLength = 0;
  #body: { index: number; offset: number; remaining: number; parts: Buffer[] } | undefined;

  /** Consumes `data` and returns the frames it completed. @throws {SlurmTransportError} `ERR_REMOTE_COMMAND` on a malformed frame. */
  push(data: Buffer): TailFrame[] {
    const frames: TailFrame[] = [];
    let position = 0;
    while (position < data.length) {
      const body = this.#body;
      if (body !== undefined) {
        const take = Math.min(body.remaining, data.length - position);
        body.parts.push(data.subarray(position, position + take));
        body.remaining -= take;
        position += take;
        if (body.remaining === 0) {
          frames.push({
            type: 'data',
            index: body.index,
            offset: body.offset,
            chunk: Buffer.concat(body.parts),
          });
          this.#body = undefined;
        }
        continue;
      }
      const newline = data.indexOf(NEWLINE, position);
      const end = newline === -1 ? data.length : newline;
      this.#header.push(data.subarray(position, end));
      this.#headerLength += end - position;
      if (this.#headerLength > MAX_HEADER_BYTES) {
        throw protocolError(`a frame header longer than ${MAX_HEADER_BYTES} bytes`);
      }
      position = end;
      if (newline === -1) {
        break;
      }
      position += 1;
      const line = Buffer.concat(this.#header).toString('latin1');
      this.#header = [];
      this.#headerLength = 0;
      const frame = this.#parseHeader(line);
      if (frame !== undefined) {
        frames.push(frame);
      }
    }
    return frames;
  }

  // Returns the frame, or undefined when a `D` body follows.
  #parseHeader(line: string): TailFrame | undefined {
    const [type, ...fields] = line.split(' ');
    const numbers = fields.map((field) => (/^\d+$/.test(field) ? Number(field) : Number.NaN));
    const [a = Number.NaN, b = Number.NaN, c = Number.NaN] = numbers;
    if (type === 'H' && fields.length === 2 && (fields[1] === 'poll' || fields[1] === 'inotify')) {
      return { type: 'hello', version: a, mode: fields[1] };
    }
    if (type === 'D' && fields.length === 3 && numbers.every(Number.isSafeInteger)) {
      if (c === 0) {
        return { type: 'data', index: a, offset: b, chunk: Buffer.alloc(0) };
      }
      this.#body = { index: a, offset: b, remaining: c, parts: [] };
      return undefined;
    }
    if (type === 'T' && fields.length === 2 && numbers.every(Number.isSafeInteger)) {
      return { type: 'truncated', index: a, size: b };
    }
    if (type === 'E' && fields.length === 1 && Number.isSafeInteger(a)) {
      return { type: 'unreadable', index: a };
    }
    throw protocolError(`an unknown frame header ${JSON.stringify(line)}`);
  }
}

function protocolError(what: string): SlurmTransportError {
  return new SlurmTransportError(
    'ERR_REMOTE_COMMAND',
    `The remote tail loop sent ${what}. The login node's bash or coreutils (stat, dd) behave unexpectedly; ` +
      'check that `bash --version` is 4.4 or newer and `dd --version` is GNU coreutils there.',
  );
}
