// What the reward-trace view asks the host to save (webviews cannot write files), checked and
// turned into the file's bytes here, VS Code-free; the editor only adds the save dialog.
import type { SaveExportParams } from '../protocol';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The bytes to write; throws with a reason the view shows when the payload is not what it claims. */
export function exportBytes(params: SaveExportParams): Buffer {
  if (params.format === 'csv') return Buffer.from(params.data, 'utf8');
  const bytes = Buffer.from(params.data, 'base64');
  if (bytes.length < PNG_SIGNATURE.length || !bytes.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) {
    throw new Error('the PNG export is not a PNG image');
  }
  return bytes;
}

/** A plain file name for the save dialog: no folders, no characters file systems refuse. */
export function safeFileName(name: string, format: SaveExportParams['format']): string {
  const base = (name.split(/[\\/]/).pop() ?? '').replace(/[<>:"|?*\u0000-\u001f]/g, '-').trim() || 'reward-traces';
  return base.toLowerCase().endsWith(`.${format}`) ? base : `${base}.${format}`;
}
