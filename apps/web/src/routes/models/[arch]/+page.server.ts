import { error } from '@sveltejs/kit';
import { loadModelCard } from '$lib/server/report';
import { modelsDir } from '$lib/server/repo';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ params }) => {
  const doc = await loadModelCard(modelsDir(), params.arch);
  if (!doc) error(404, `no model card for ${params.arch} (models/${params.arch}/README.md)`);
  return { doc };
};
