// Human durations for ETAs: shared by the CLI's progress line and the editor's status bar, which
// must not import the CLI (DESIGN.md §2: editor → runs, cli → runs).

/** Seconds as `m:ss` or `h:mm:ss`; `?` for a negative or non-finite value. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(h ? 2 : 1, '0');
  return `${h ? `${h}:` : ''}${mm}:${String(sec).padStart(2, '0')}`;
}

/** How long ago, coarse: `12s`, `5m`, `3h`, `2d` (a future time reads as `0s`). */
export function formatAge(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}
