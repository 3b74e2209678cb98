// Moving a group by drag and drop, the pointer's way to "Move to…" (move.ts; keyboard users have
// that): a group's row dragged onto another group's row, or onto "make it a root group" above the
// tree, opens the very preview the picker shows (`moveImpact`: who gains and loses which role,
// and any refusal) in a dialog. Only "Confirm move" writes; Cancel, Escape or closing writes
// nothing. Rows are draggable only when the key may write groups (tree.ts `rowsDraggable`).
import './drag.css';
import type { GroupRef } from './api';
import { h } from './dom';
import type { Editing } from './edits';
import { moveTabStop } from './keyboard';
import { showPreview } from './move';

const ITEM = '[role="treeitem"]';
const ROW = `${ITEM} > .row`;

const parentItem = (item: HTMLElement): HTMLElement | null => item.parentElement?.closest<HTMLElement>(ITEM) ?? null;
const groupOf = (item: HTMLElement): GroupRef => ({
  id: item.dataset.groupId ?? '',
  name: item.querySelector(':scope > .row > .name')?.textContent ?? '',
});

export class DragMove {
  private editing: Editing = { mayWrite: false, scopes: [], afterEdit: async () => {} };
  /** The item being dragged, from dragstart to dragend. */
  private source: HTMLElement | null = null;
  /** The highlighted drop target: a row, or the root zone. */
  private target: HTMLElement | null = null;
  /** Where the focus goes back when the preview is closed without a move. */
  private returnFocus: HTMLElement | null = null;
  private latest = 0;
  private readonly zone = h('div', { id: 'drop-root', class: 'drop-zone', hidden: '' }, 'Drop a group here to make it a root group');
  private readonly pane = h('div', { id: 'drag-preview', role: 'group', 'aria-label': 'Preview of the move' });
  private readonly dialog = h('dialog', { id: 'drag-move', 'aria-label': 'Move a group' }, this.pane);

  constructor(tree: HTMLElement) {
    tree.before(this.zone);
    document.body.append(this.dialog);
    tree.addEventListener('dragstart', (event) => this.start(event));
    tree.addEventListener('dragend', () => this.end());
    tree.addEventListener('dragover', (event) => this.over(event, this.rowTarget(event)));
    tree.addEventListener('dragleave', (event) => this.leave(event));
    tree.addEventListener('drop', (event) => this.drop(event, this.rowTarget(event)));
    this.zone.addEventListener('dragover', (event) => this.over(event, this.zoneTarget()));
    this.zone.addEventListener('dragleave', (event) => this.leave(event));
    this.zone.addEventListener('drop', (event) => this.drop(event, this.zoneTarget()));
    this.dialog.addEventListener('close', () => {
      this.latest++;
      this.pane.replaceChildren();
      if (this.returnFocus?.isConnected) moveTabStop(tree, this.returnFocus, true);
      this.returnFocus = null;
    });
  }

  /** For the key just opened: the root zone is shown, and drags are taken, only if it may write groups. */
  enable(editing: Editing): void {
    this.editing = editing;
    this.zone.hidden = !editing.mayWrite;
  }

  private start(event: DragEvent): void {
    const row = event.target instanceof Element ? event.target.closest<HTMLElement>(ROW) : null;
    const item = row?.parentElement;
    if (!this.editing.mayWrite || !row?.draggable || !item || !event.dataTransfer) return;
    this.source = item;
    event.dataTransfer.effectAllowed = 'move';
    event.dataTransfer.setData('text/plain', groupOf(item).name);
    row.classList.add('drag-source');
    this.zone.classList.add('dragging');
  }

  private end(): void {
    this.source?.querySelector(':scope > .row')?.classList.remove('drag-source');
    this.source = null;
    this.zone.classList.remove('dragging');
    this.mark(null);
  }

  /** The row under the pointer, if the dragged group may be dropped there: not itself, nor its parent already. */
  private rowTarget(event: DragEvent): HTMLElement | null {
    const row = event.target instanceof Element ? event.target.closest<HTMLElement>(ROW) : null;
    const item = row?.parentElement;
    if (!this.source || !row || !item || item === this.source || parentItem(this.source) === item) return null;
    return row;
  }

  /** The root zone, unless the dragged group is a root group already. */
  private zoneTarget(): HTMLElement | null {
    return this.source && parentItem(this.source) ? this.zone : null;
  }

  private over(event: DragEvent, target: HTMLElement | null): void {
    this.mark(target);
    if (!target || !event.dataTransfer) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'move';
  }

  private leave(event: DragEvent): void {
    if (this.target && !(event.relatedTarget instanceof Node && this.target.contains(event.relatedTarget))) this.mark(null);
  }

  private drop(event: DragEvent, target: HTMLElement | null): void {
    const source = this.source;
    this.end();
    if (!source || !target) return;
    event.preventDefault();
    this.preview(source, target === this.zone ? null : groupOf(target.parentElement as HTMLElement));
  }

  /** Highlights the drop target (none: null). */
  private mark(target: HTMLElement | null): void {
    if (target === this.target) return;
    this.target?.classList.remove('drop-target');
    target?.classList.add('drop-target');
    this.target = target;
  }

  /** The move's preview in the dialog, as "Move to…" shows it; confirming closes it and shows the moved group. */
  private preview(item: HTMLElement, parent: GroupRef | null): void {
    // One preview at a time: a picker's open in the details pane is closed (its ids are the same).
    const picker = document.getElementById('move-picker');
    if (picker && !picker.hidden) document.getElementById('cancel-move-pick')?.click();
    const request = ++this.latest;
    this.returnFocus = item;
    const editing: Editing = {
      ...this.editing,
      afterEdit: (show, done) => {
        this.returnFocus = null;
        this.dialog.close();
        return this.editing.afterEdit(show, done);
      },
    };
    this.dialog.showModal();
    void showPreview(groupOf(item), parent, editing, this.pane, () => this.dialog.close(), () => request === this.latest);
  }
}
