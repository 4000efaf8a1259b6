// Recording names and paths: the UTC file stem, what counts as a recording name, and the checks
// that keep every path inside the recording directory.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  fileStem,
  locateRecording,
  parseRecordingName,
  parseRecordingPath,
  resolveInside,
  startedAtOf,
} from '../../server/record/recordings.js';
import { tempDir } from './helpers.js';

const tmp = tempDir('names');
afterAll(() => tmp.remove());

describe('recording names', () => {
  it('file stems are UTC YYYYMMDD-HHMMSS, and the name gives the start time back', () => {
    const at = new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 678));
    expect(fileStem(at)).toBe('20250102-030405');
    expect(startedAtOf('20250102-030405.flv')?.toISOString()).toBe('2025-01-02T03:04:05.000Z');
    expect(startedAtOf('20250102-030405-12.flv')?.toISOString()).toBe('2025-01-02T03:04:05.000Z');
    expect(startedAtOf('20250102-030405.mp4')).toBeNull();
  });

  it('accepts only safe APP/KEY and the writer\'s file names', () => {
    expect(parseRecordingName('live', 'cam_1.hd', '20250102-030405-1.flv')).toEqual({
      app: 'live', key: 'cam_1.hd', file: '20250102-030405-1.flv', name: 'live/cam_1.hd/20250102-030405-1.flv',
    });
    for (const [app, key, file] of [
      ['..', 'cam', '20250102-030405.flv'],
      ['live', '..', '20250102-030405.flv'],
      ['live', 'a..b', '20250102-030405.flv'],
      ['.hidden', 'cam', '20250102-030405.flv'],
      ['live', 'cam', '../20250102-030405.flv'],
      ['live', 'cam', '20250102-030405.flv/..'],
      ['live', 'cam', 'package.json'],
      ['live', 'cam', '20250102-030405.flv\0'],
      ['live/x', 'cam', '20250102-030405.flv'],
      ['', 'cam', '20250102-030405.flv'],
    ] as const) {
      expect(parseRecordingName(app, key, file)).toBeNull();
    }
    expect(parseRecordingPath('live/cam/20250102-030405.flv')?.name).toBe('live/cam/20250102-030405.flv');
    expect(parseRecordingPath('live/cam/../20250102-030405.flv')).toBeNull();
    expect(parseRecordingPath('/etc/passwd')).toBeNull();
  });

  it('resolveInside refuses the root itself and anything outside it', () => {
    const root = '/srv/rec';
    expect(resolveInside(root, 'live', 'cam', 'x.flv')).toBe('/srv/rec/live/cam/x.flv');
    expect(resolveInside(root)).toBeNull();
    expect(resolveInside(root, '..', 'etc')).toBeNull();
    expect(resolveInside(root, 'live/../../etc')).toBeNull();
    expect(resolveInside(root, '/etc/passwd')).toBeNull();
    expect(resolveInside(root, '..rec', 'x')).toBe('/srv/rec/..rec/x');
  });

  it('locateRecording finds real files only, and not through a symlink that leaves the directory', async () => {
    const root = path.join(tmp.dir, 'rec');
    mkdirSync(path.join(root, 'live', 'cam'), { recursive: true });
    writeFileSync(path.join(root, 'live', 'cam', '20250102-030405.flv'), 'FLV');
    writeFileSync(path.join(tmp.dir, 'outside.flv'), 'secret');
    symlinkSync(path.join(tmp.dir, 'outside.flv'), path.join(root, 'live', 'cam', '20250102-030406.flv'));
    mkdirSync(path.join(root, 'live', 'cam', '20250102-030407.flv'));
    const found = await locateRecording(root, parseRecordingName('live', 'cam', '20250102-030405.flv')!);
    expect(found?.relative).toBe(path.join('live', 'cam', '20250102-030405.flv'));
    expect(await locateRecording(root, parseRecordingName('live', 'cam', '20250102-030406.flv')!)).toBeNull();
    expect(await locateRecording(root, parseRecordingName('live', 'cam', '20250102-030407.flv')!)).toBeNull();
    expect(await locateRecording(root, parseRecordingName('live', 'cam', '20250102-030408.flv')!)).toBeNull();
  });
});
