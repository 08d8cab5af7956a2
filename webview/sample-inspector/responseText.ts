// A response with its hallucinated spans marked: one <mark> per segment (characters covered by the
// same spans), the labels as its title. Marks of an editable record are buttons that clear them.
import type { Span } from '../../src/protocol/webviews/sampleInspector';
import { el } from '../shared/dom';
import { segmentSpans } from '../../src/protocol/spans';

export interface MarkedText {
  root: HTMLElement;
  /** Spans the splitter could not place (out of the response's range, or empty). */
  ignored: number;
}

/** `clearable`: each mark is focusable and clears the spans under it (click, Enter or Delete). */
export function markedResponse(
  response: string,
  spans: Span[],
  source: 'judge' | 'human',
  clear?: (start: number, end: number) => void,
): MarkedText {
  const root = el('div', 'response');
  const { segments, ignored } = segmentSpans(response, spans);
  let at = 0;
  for (const seg of segments) {
    if (seg.start > at) root.append(document.createTextNode(response.slice(at, seg.start)));
    const text = response.slice(seg.start, seg.end);
    if (seg.labels.length === 0) root.append(document.createTextNode(text));
    else root.append(mark(text, seg.start, seg.end, seg.labels, source, clear));
    at = Math.max(at, seg.end);
  }
  if (at < response.length) root.append(document.createTextNode(response.slice(at)));
  return { root, ignored };
}

function mark(
  text: string,
  start: number,
  end: number,
  labels: string[],
  source: 'judge' | 'human',
  clear?: (start: number, end: number) => void,
): HTMLElement {
  const m = el('mark', `span span-${source}`, text);
  m.dataset.start = String(start);
  m.dataset.end = String(end);
  m.dataset.labels = labels.join(',');
  const what = `${labels.join(', ')} (${source === 'human' ? 'marked by you' : 'judge'})`;
  m.title = clear ? `${what}: click to clear` : what;
  if (clear) {
    m.tabIndex = 0;
    m.setAttribute('role', 'button');
    m.setAttribute('aria-label', `Hallucinated “${text}”: ${what}. Press Delete to clear.`);
    m.addEventListener('click', () => {
      // A drag that selected text ends with a click too: that is a selection, not a clear.
      if (window.getSelection()?.isCollapsed === false) return;
      clear(start, end);
    });
    m.addEventListener('keydown', (e) => {
      if (e.key === 'Delete' || e.key === 'Backspace' || e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        e.stopPropagation();
        clear(start, end);
      }
    });
  }
  return m;
}
