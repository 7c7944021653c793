import { expect } from "chai";
import { ArrivalOrder } from "../../../src/budget/arrival-order.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("ArrivalOrder", () => {
  it("runs steps in the order they were queued, whatever each one waits for", async () => {
    const order = new ArrivalOrder();
    const ran: number[] = [];
    const delays = [30, 0, 10, 0, 20];
    delays.forEach((delay, index) =>
      order.enqueue(async () => {
        await sleep(delay);
        ran.push(index);
      }),
    );
    expect(order.idle).to.equal(false);
    while (!order.idle) await sleep(5);
    expect(ran).to.deep.equal([0, 1, 2, 3, 4]);
  });

  it("refuses a step once the bound of waiting steps is reached, and accepts again after they ran", async () => {
    const order = new ArrivalOrder(3);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    expect(order.enqueue(() => gate)).to.equal(true);
    expect(order.enqueue(() => undefined)).to.equal(true);
    expect(order.enqueue(() => undefined)).to.equal(true);
    expect(
      order.enqueue(() => undefined),
      "a fourth waiting step",
    ).to.equal(false);
    expect(order.waiting).to.equal(3);
    release();
    while (!order.idle) await sleep(1);
    expect(order.enqueue(() => undefined)).to.equal(true);
  });

  it("goes on after a step that throws or rejects", async () => {
    const order = new ArrivalOrder();
    const ran: string[] = [];
    order.enqueue(() => {
      throw new Error("boom");
    });
    order.enqueue(() => Promise.reject(new Error("rejected")));
    order.enqueue(() => {
      ran.push("after");
    });
    while (!order.idle) await sleep(1);
    expect(ran).to.deep.equal(["after"]);
  });
});
