import { scan, type ScanInput, type ScanReport } from '@brine/scanner';
import { LocalFileSource } from '@brine/storage';

/** scans a local file the way `brine scan` does (the file name is what torch.load would see) */
export async function scanFile(path: string, input: ScanInput = {}): Promise<ScanReport> {
  const src = await LocalFileSource.open(path);
  try {
    return await scan(src, { path, filename: path, ...input });
  } finally {
    await src.close();
  }
}
