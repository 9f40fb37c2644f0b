import { TORCH_VERSIONS } from '@brine/scanner/report';

export const SCAN_USAGE = `usage: brine scan [options] PATH...

Scans checkpoint files (folders are walked) without executing anything.
  --format F      text (default), json (one JSON array of reports) or sarif (SARIF 2.1.0 for code scanning)
  --json          the same as --format json
  --output FILE   write the json or sarif output to FILE instead of standard output
  --torch V       the torch version the verdict is about: ${TORCH_VERSIONS.join(', ')} (default 2.14)
  --allow NAME    treat NAME as a safe global, as torch.serialization.add_safe_globals would (repeatable)
  --fail-on V     the verdict that fails the scan: dangerous (only that), suspicious (or dangerous), or unknown
                  (default: anything that is not safe)
  --allow-format F  judge F files (numpy, safetensors, onnx, gguf: read without unpickling) by what they hold, not
                  by whether torch.load takes them: a plain np.save array passes, an object array still fails
                  (repeatable, or comma-separated)
  --include GLOB  in folders, scan only paths that match (repeatable; e.g. '**/*.pt')
  --exclude GLOB  in folders, skip paths that match (repeatable; e.g. 'tests/**')
  --no-hash       skip the SHA-256 of each file
In folders, .git, .hg, .svn and node_modules are passed over, and so are images, fonts, PDFs and text files that
are not pickles; files named on the command line are always scanned. Verdicts and --json are the scanner's;
--fail-on and --allow-format decide only the exit status.
Exit status: 0 when no file fails (by default: every file is safe), 1 when one does, 2 on a usage error (a missing
path too), 3 when a file could not be read.`;
