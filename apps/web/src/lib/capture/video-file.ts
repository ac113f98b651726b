// A recorded video as the frame source: which files the page offers to open, and what to say
// when the browser cannot play one.

/** What the file picker offers. Browsers play more than they admit to; the check is play(). */
export const VIDEO_FILE_ACCEPT = 'video/*,.mp4,.webm,.mkv,.mov,.ogv';

/** Why a video file could not be played, in words a user can act on. */
export function videoFileError(file: { name: string; type: string }, err: unknown): string {
  const name = typeof err === 'object' && err && 'name' in err ? String((err as { name: unknown }).name) : '';
  const what = `${file.name}${file.type ? ` (${file.type})` : ''}`;
  if (name === 'NotSupportedError')
    return `This browser cannot play ${what}. Try an MP4 (H.264) or WebM (VP8/VP9) file.`;
  const detail = err instanceof Error && err.message ? `: ${err.message}` : '';
  return `${what} could not be played${detail}. Try an MP4 (H.264) or WebM (VP8/VP9) file.`;
}
