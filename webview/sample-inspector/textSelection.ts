// Where a text selection lies inside a response, in UTF-16 code units of the response text (the
// unit spans use): counted over the text nodes of the element, so marks inside it do not matter.

/** [start, end) of the selection inside `container`, or null when it is empty or leaves it. */
export function selectionOffsets(container: Node, selection: Selection | null): [number, number] | null {
  if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
  const range = selection.getRangeAt(0);
  if (!container.contains(range.startContainer) || !container.contains(range.endContainer)) return null;
  const start = offsetIn(container, range.startContainer, range.startOffset);
  const end = offsetIn(container, range.endContainer, range.endOffset);
  if (start === null || end === null || end <= start) return null;
  return [start, end];
}

/** The text offset of a DOM boundary point (node, offset) within `container`. */
function offsetIn(container: Node, node: Node, offset: number): number | null {
  const range = document.createRange();
  range.selectNodeContents(container);
  try {
    range.setEnd(node, offset);
  } catch {
    return null;
  }
  // toString() of a range is its text content: exactly the characters before the boundary.
  return range.toString().length;
}
