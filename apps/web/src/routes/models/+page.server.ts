import { loadReport } from '$lib/server/report';
import { modelsDir } from '$lib/server/repo';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async () => {
  const dir = modelsDir();
  return { doc: (await loadReport(dir)) ?? null, modelsDir: dir };
};
