// One queued payment for forwardOne() called directly, recording how it was settled.
import { randomUUID } from "node:crypto";
import type { PaymentJob, QueueMessage } from "../../../handlers/contract/types";

export function message(body: PaymentJob) {
  const m = {
    id: body.jobId,
    timestamp: new Date(),
    body,
    attempts: 1,
    settled: "" as "" | "ack" | "retry",
    ack() {
      m.settled ||= "ack";
    },
    retry() {
      m.settled ||= "retry";
    },
  };
  return m satisfies QueueMessage<PaymentJob>;
}

export function payment(receivedAt = Date.now()): PaymentJob {
  return { jobId: randomUUID(), correlationId: randomUUID(), amountCents: 1990, receivedAt };
}
