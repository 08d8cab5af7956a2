// Which rows of a fixed-row-height list are in or near the viewport, and which pages of records
// that needs: the list holds only these in the DOM and asks the host only for these. No DOM here.

export interface RowRange {
  /** First row in the DOM (inclusive) and the end (exclusive). */
  first: number;
  end: number;
  /** First row actually inside the viewport. */
  firstVisible: number;
}

export function rowRange(scrollTop: number, viewportHeight: number, rowHeight: number, count: number, overscan: number): RowRange {
  if (count <= 0 || rowHeight <= 0) return { first: 0, end: 0, firstVisible: 0 };
  const firstVisible = Math.min(count - 1, Math.max(0, Math.floor(scrollTop / rowHeight)));
  const lastVisible = Math.min(count, Math.ceil((scrollTop + Math.max(viewportHeight, rowHeight)) / rowHeight));
  return { first: Math.max(0, firstVisible - overscan), end: Math.min(count, lastVisible + overscan), firstVisible };
}

/** Page numbers covering rows [first, end). */
export function pagesFor(first: number, end: number, pageSize: number): number[] {
  const pages: number[] = [];
  for (let p = Math.floor(first / pageSize); p * pageSize < end; p++) pages.push(p);
  return pages;
}

/** The scrollTop that brings `row` fully into view, or the current one when it already is. */
export function scrollToShow(row: number, scrollTop: number, viewportHeight: number, rowHeight: number): number {
  const top = row * rowHeight;
  if (top < scrollTop) return top;
  if (top + rowHeight > scrollTop + viewportHeight) return Math.max(0, top + rowHeight - viewportHeight);
  return scrollTop;
}
