import { describe, expect, test } from "vitest";
import { collectors } from "../../src/index.ts";
import { hmacHex, input } from "../helpers.ts";

const { github } = collectors;

// GitHub's documented test vector (docs.github.com, "Validating webhook deliveries").
const SECRET = "It's a Secret to Everybody";
const PAYLOAD = "Hello, World!";
const SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

function signed(signature: string | undefined, secrets = [SECRET], body = PAYLOAD) {
  const headers: Record<string, string> = signature === undefined ? {} : { "x-hub-signature-256": signature };
  return input(body, headers, { secrets });
}

describe("GitHub signature", () => {
  test("accepts GitHub's documented example signature", () => {
    expect(github.verify(signed(SIGNATURE))).toBe(true);
  });

  test("our HMAC matches the documented vector", () => {
    expect(`sha256=${hmacHex(SECRET, PAYLOAD)}`).toBe(SIGNATURE);
  });

  test("accepts the signature of any active secret during a rotation", () => {
    expect(github.verify(signed(SIGNATURE, ["the new secret", SECRET]))).toBe(true);
    expect(github.verify(signed(SIGNATURE, [SECRET, "the new secret"]))).toBe(true);
  });

  test("accepts upper-case hex", () => {
    expect(github.verify(signed(SIGNATURE.toUpperCase().replace("SHA256=", "sha256=")))).toBe(true);
  });

  test("rejects a signature made with another secret", () => {
    expect(github.verify(signed(`sha256=${hmacHex("guessed", PAYLOAD)}`))).toBe(false);
  });

  test("rejects a body changed after signing", () => {
    expect(github.verify(signed(SIGNATURE, [SECRET], "Hello, World?"))).toBe(false);
  });

  test("rejects a forged signature of the right length", () => {
    expect(github.verify(signed(`sha256=${"0".repeat(64)}`))).toBe(false);
  });

  test("rejects a truncated signature", () => {
    expect(github.verify(signed(SIGNATURE.slice(0, 40)))).toBe(false);
  });

  test("rejects the legacy sha1= prefix and a missing prefix", () => {
    expect(github.verify(signed(SIGNATURE.replace("sha256=", "sha1=")))).toBe(false);
    expect(github.verify(signed(SIGNATURE.replace("sha256=", "")))).toBe(false);
  });

  test("rejects an empty or missing header", () => {
    expect(github.verify(signed(""))).toBe(false);
    expect(github.verify(signed(undefined))).toBe(false);
  });

  test("rejects garbage without throwing", () => {
    expect(github.verify(signed("sha256=\u0000\uffff not hex at all"))).toBe(false);
  });

  test("rejects everything when the integration has no secret", () => {
    expect(github.verify(signed(SIGNATURE, []))).toBe(false);
  });

  test("an empty secret never validates an unsigned-looking request", () => {
    expect(github.verify(signed(`sha256=${hmacHex("", PAYLOAD)}`, [""]))).toBe(false);
  });
});

describe("GitHub delivery id", () => {
  test("is the X-GitHub-Delivery GUID", () => {
    const id = github.deliveryId(input("{}", { "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958" }));
    expect(id).toBe("72d3162e-cc78-11e3-81ab-4c9367dc0958");
  });

  test("falls back to a hash of the body, the same for the same bytes", () => {
    const first = github.deliveryId(input('{"zen":"Design for failure."}'));
    expect(first).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(github.deliveryId(input('{"zen":"Design for failure."}'))).toBe(first);
    expect(github.deliveryId(input('{"zen":"Keep it logically awesome."}'))).not.toBe(first);
  });
});
