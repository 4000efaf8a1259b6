// Issue 11: publishers whose timestamps jump on one connection. GStreamer's
// rtmp2sink sends a file and then the same file again from 0 (an encoder clock
// reset); ffmpeg crosses 2^31 ms, where its FLV muxer's 31-bit timestamps wrap.
// Viewers must see the stream go on at its normal frame spacing, with one
// warning in the log and one count in the metrics.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { publish, run, testSource, type Proc, type SourceSpec } from '../support/ffmpeg.js';
import { discontinuityMetric, gw, jumpWarnings, procs, tmp, useTimelineBed, viewers } from '../support/timeline-bed.js';
import { httpViewer, type TestViewer } from '../support/viewers.js';
import { waitFor } from '../support/wait.js';

const SMALL: SourceSpec = { width: 320, height: 240, fps: 30, gop: 30, seconds: 4, audio: true };
const NON_MONOTONIC = /non[- ]monoton/i;

useTimelineBed(SMALL, 'gw-jumps-');

/** One file per FLV tag (the FLV header first), `passes` times over: rtmp2sink sends one tag per buffer. */
function splitIntoTags(flv: Buffer, dir: string, passes: number): void {
  mkdirSync(dir, { recursive: true });
  const tags: Buffer[] = [];
  for (let i = 13; i + 11 <= flv.length; ) {
    const end = i + 11 + flv.readUIntBE(i + 1, 3) + 4;
    tags.push(flv.subarray(i, end));
    i = end;
  }
  let n = 0;
  const write = (b: Buffer) => writeFileSync(path.join(dir, `${String(n++).padStart(5, '0')}.flv`), b);
  write(flv.subarray(0, 13));
  for (let p = 0; p < passes; p++) for (const t of tags) write(t);
}

/**
 * What a viewer across the jump must see: every video frame later than the one before, at the frame spacing.
 * `resumeAt` (from the warning) is where the timeline went on: the viewer must have frames on both sides of it.
 */
function expectSmoothVideo(viewer: TestViewer, resumeAt?: number): void {
  expect(viewer.flv.problems()).toEqual([]);
  const times = viewer.flv.videoFrames().map((t) => t.timestamp);
  expect(times.length).toBeGreaterThan(60);
  if (resumeAt !== undefined) {
    expect(times[0]!).toBeLessThan(resumeAt);
    expect(times.at(-1)!).toBeGreaterThan(resumeAt + 1000);
  }
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  // 30 fps: 33 or 34 ms, except across the jump: one frame interval after the later of audio and video,
  // and audio may have run on up to two AAC frames past the last video frame
  expect(Math.min(...gaps)).toBeGreaterThanOrEqual(33);
  expect(gaps.filter((g) => g > 34).length).toBeLessThanOrEqual(1);
  expect(Math.max(...gaps)).toBeLessThanOrEqual(34 + 2 * 24);
}

/**
 * ffmpeg reading the HTTP-FLV stream and remuxing it to MP4, which insists on increasing DTS. ffmpeg 5.1 warns
 * "Non-monotonous DTS in output stream" (and lets through equal DTS with a fix-up); the muxer's own error says
 * "non monotonically increasing dts": NON_MONOTONIC matches both.
 */
function ffmpegViewer(url: string, out: string): Proc {
  const p = run('ffmpeg', ['-hide_banner', '-loglevel', 'warning', '-i', url, '-c', 'copy', '-f', 'mp4', '-y', out]);
  procs.push(p);
  return p;
}

describe('timestamp discontinuities from real publishers', () => {
  it('GStreamer rtmp2sink resetting its clock on one connection: viewers go on smoothly, one warning, one count', async () => {
    const dir = path.join(tmp, 'tags');
    splitIntoTags(readFileSync(testSource(SMALL)), dir, 2);
    const before = await discontinuityMetric();
    const gst = run('gst-launch-1.0', [
      '-q', 'multifilesrc', `location=${dir}/%05d.flv`, 'index=0', 'caps=video/x-flv',
      // ~75 tags per second of media: paced near real time so viewers join before the reset
      '!', 'identity', 'sleep-time=12000',
      '!', 'rtmp2sink', `location=${gw.rtmpUrl('live/gst')}`,
    ]);
    procs.push(gst);
    await waitFor('the GStreamer stream', () => gw.hub.get('live/gst')?.ready === true);
    const viewer = httpViewer(gw.httpUrl('/live/gst.flv'));
    viewers.push(viewer);
    const ff = ffmpegViewer(gw.httpUrl('/live/gst.flv'), path.join(tmp, 'gst.mp4'));
    expect(await gst.exited).toBe(0);
    await viewer.ended;
    await ff.exited;

    const warnings = jumpWarnings('live/gst');
    expect(warnings).toHaveLength(1);
    expectSmoothVideo(viewer, warnings[0]!.resumeAt);
    expect(ff.stderr()).not.toMatch(NON_MONOTONIC);
    expect(warnings[0]!.jumpMs).toBeLessThan(-3000); // back from ~4 s to 0
    expect((await discontinuityMetric()) - before).toBe(1);
  });

  it('ffmpeg crossing 2^31 ms, where its 31-bit FLV timestamps wrap: viewers go on smoothly, one warning, one count', async () => {
    const before = await discontinuityMetric();
    // 2^31 ms is 2147483.648 s: start 1.6 s before it
    const pub = publish(gw.rtmpUrl('live/wrap31'), testSource(SMALL), ['-output_ts_offset', '2147482']);
    procs.push(pub);
    await waitFor('the ffmpeg stream', () => gw.hub.get('live/wrap31')?.ready === true);
    const viewer = httpViewer(gw.httpUrl('/live/wrap31.flv'));
    viewers.push(viewer);
    const ff = ffmpegViewer(gw.httpUrl('/live/wrap31.flv'), path.join(tmp, 'wrap31.mp4'));
    await waitFor('the wrap and 2 s after it', () => jumpWarnings('live/wrap31').length > 0 && viewer.flv.videoFrames().length > 150);
    await pub.stop();
    await viewer.ended;
    await ff.exited;

    const warnings = jumpWarnings('live/wrap31');
    expect(warnings).toHaveLength(1);
    expectSmoothVideo(viewer, warnings[0]!.resumeAt);
    expect(ff.stderr()).not.toMatch(NON_MONOTONIC);
    expect(warnings[0]!.jumpMs).toBeLessThan(-(2 ** 31) + 5000);
    expect((await discontinuityMetric()) - before).toBe(1);
  });

  it('ffmpeg crossing 2^24 ms, where RTMP switches to extended timestamps: no discontinuity at all', async () => {
    const before = await discontinuityMetric();
    // 2^24 ms is 16777.216 s: start 1.2 s before it
    const pub = publish(gw.rtmpUrl('live/ext24'), testSource(SMALL), ['-output_ts_offset', '16776']);
    procs.push(pub);
    await waitFor('the ffmpeg stream', () => gw.hub.get('live/ext24')?.ready === true);
    const viewer = httpViewer(gw.httpUrl('/live/ext24.flv'));
    viewers.push(viewer);
    await waitFor('2.5 s of video', () => viewer.flv.videoFrames().length > 75);
    await pub.stop();
    await viewer.ended;

    expectSmoothVideo(viewer);
    // ffmpeg stamps its sequence headers 0 and its frames from 16776 s: the timeline still starts at 0 at the
    // first frame (had the headers anchored it, frames would be at 16776 s), so this viewer, joined within a GOP
    // or two of the start, begins near 0 with its sequence headers at its first frame
    const first = viewer.flv.videoFrames()[0]!.timestamp;
    expect(first).toBeLessThan(60_000);
    const configs = viewer.flv.tags.filter((t) => (t.type === 8 || t.type === 9) && t.payload[1] === 0);
    expect(configs.map((t) => t.timestamp)).toEqual([first, first]);
    expect(jumpWarnings('live/ext24')).toEqual([]);
    expect(await discontinuityMetric()).toBe(before);
  });
});
