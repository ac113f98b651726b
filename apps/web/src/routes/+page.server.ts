// The stream server's URL, when the environment names one (AFFECT_STREAM_URL); otherwise the
// page uses the host it was loaded from, port 8787 (or STREAM_PORT, the server's own variable).
import { env } from '$env/dynamic/private';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = () => ({
  streamUrl: env.AFFECT_STREAM_URL || null,
  streamPort: env.STREAM_PORT || null,
});
