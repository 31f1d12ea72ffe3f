import type { Action, Channel, NodeEvent } from "./actions.js";

/**
 * The actions the core queued for its host, in order. Every part of the node pushes here; only the
 * host drains it (`OverlayNode.pollAction`), after each call into the core.
 */
export class ActionQueue {
  private readonly actions: Action[] = [];
  private head = 0;

  push(action: Action): void {
    this.actions.push(action);
  }

  emit(event: NodeEvent): void {
    this.actions.push({ type: "event", event });
  }

  sendFrame(linkId: number, channel: Channel, frame: Uint8Array): void {
    this.actions.push({ type: "send-frame", linkId, channel, frame });
  }

  /** Next action, or undefined when there is none (then the queue's storage is reused). */
  poll(): Action | undefined {
    if (this.head >= this.actions.length) {
      if (this.head > 0) {
        this.actions.length = 0;
        this.head = 0;
      }
      return undefined;
    }
    const action = this.actions[this.head]!;
    // Let the host's buffers go as soon as it has them.
    this.actions[this.head++] = undefined as unknown as Action;
    return action;
  }
}
