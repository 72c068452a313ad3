import { WireErrorCodes } from '@mcpwatch/shared';
import { isRetryableAnswer } from '../../../src/ship/is-retryable.js';

describe('isRetryableAnswer', () => {
  it('retries timeouts, throttling and server errors', () => {
    for (const status of [408, 429, 500, 502, 503]) expect(isRetryableAnswer(status, undefined)).toBe(true);
  });

  it('retries a clock-skew refusal and the answers that call for enrolling again', () => {
    expect(isRetryableAnswer(401, WireErrorCodes.timestampSkew)).toBe(true);
    expect(isRetryableAnswer(401, WireErrorCodes.unknownAgent)).toBe(true);
    expect(isRetryableAnswer(401, WireErrorCodes.certExpired)).toBe(true);
  });

  it('does not retry what would fail the same way', () => {
    expect(isRetryableAnswer(400, WireErrorCodes.schema)).toBe(false);
    expect(isRetryableAnswer(401, WireErrorCodes.signatureInvalid)).toBe(false);
    expect(isRetryableAnswer(403, WireErrorCodes.agentRevoked)).toBe(false);
    expect(isRetryableAnswer(413, undefined)).toBe(false);
  });
});
