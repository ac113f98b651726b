// The face detector's weights, served from the @vladmandic/human package in node_modules.
import { error } from '@sveltejs/kit';
import { DETECTOR_FILES, readDetectorFile } from '$lib/server/detector-files';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async ({ params }) => {
  const bytes = await readDetectorFile(params.file);
  if (!bytes) error(404, `no detector file ${params.file}`);
  return new Response(bytes, {
    headers: { 'content-type': DETECTOR_FILES[params.file], 'cache-control': 'public, max-age=86400' },
  });
};
