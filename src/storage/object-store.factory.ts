import { LocalObjectStore } from './local-object-store.js';
import type { ObjectStore } from './object-store.js';

/** `gs://bucket[/prefix]` → Google Cloud Storage; anything else is a local folder. */
export async function createObjectStore(url: string, options: { projectId?: string; listPageSize?: number } = {}): Promise<ObjectStore> {
  if (url.startsWith('gs://')) {
    const { GcsObjectStore } = await import('./gcs-object-store.js');
    return new GcsObjectStore({ url, projectId: options.projectId, listPageSize: options.listPageSize });
  }
  return new LocalObjectStore(url.startsWith('file://') ? new URL(url).pathname : url, { listPageSize: options.listPageSize });
}
