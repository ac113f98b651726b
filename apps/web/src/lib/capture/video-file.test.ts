import { describe, expect, test } from 'vitest';
import { videoFileError } from './video-file.ts';

describe('videoFileError', () => {
  test('an unsupported format names the file and suggests formats that play', () => {
    const err = Object.assign(
      new Error('The media resource indicated by the src attribute was not suitable.'),
      {
        name: 'NotSupportedError',
      },
    );
    expect(videoFileError({ name: 'talk.avi', type: 'video/x-msvideo' }, err)).toBe(
      'This browser cannot play talk.avi (video/x-msvideo). Try an MP4 (H.264) or WebM (VP8/VP9) file.',
    );
  });

  test('any other failure keeps its message', () => {
    expect(videoFileError({ name: 'a.mp4', type: '' }, new Error('it has no video track'))).toBe(
      'a.mp4 could not be played: it has no video track. Try an MP4 (H.264) or WebM (VP8/VP9) file.',
    );
    expect(videoFileError({ name: 'a.mp4', type: 'video/mp4' }, 'odd')).toBe(
      'a.mp4 (video/mp4) could not be played. Try an MP4 (H.264) or WebM (VP8/VP9) file.',
    );
  });
});
