// The report's SVG figures (models/report/*.svg).
import { error } from '@sveltejs/kit';
import { readFigure } from '$lib/server/report';
import { modelsDir } from '$lib/server/repo';
import type { RequestHandler } from './$types';

export const GET: RequestHandler = async ({ params }) => {
  const svg = await readFigure(modelsDir(), params.file);
  if (svg === undefined) error(404, `no figure ${params.file} in models/report`);
  return new Response(svg, { headers: { 'content-type': 'image/svg+xml', 'cache-control': 'no-cache' } });
};
