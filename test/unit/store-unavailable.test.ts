import { runInNewContext } from 'node:vm';
import { isUnavailable } from '../../src/store/mongoose/limits';

/** Which store errors answer 503 (the database is away) rather than 500 (our bug). */
describe('isUnavailable', () => {
  it('takes a write to a connection the database closed (Node\'s EPIPE, passed on unwrapped by the driver) as the database being away', () => {
    expect(isUnavailable(Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' }))).toBe(true);
    expect(isUnavailable(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isUnavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:27017'), { code: 'ECONNREFUSED' }))).toBe(true);
  });

  it('reads an error made in another realm (a vm context) by its shape', () => {
    const foreign: unknown = runInNewContext("Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' })");
    expect(foreign instanceof Error).toBe(false);
    expect(isUnavailable(foreign)).toBe(true);
    const network: unknown = runInNewContext("Object.assign(new Error('connection closed'), { name: 'MongoNetworkError' })");
    expect(isUnavailable(network)).toBe(true);
  });

  it('takes the driver\'s network, selection and time-limit errors as the database being away', () => {
    for (const name of ['MongoNetworkError', 'MongoServerSelectionError', 'MongoPoolClearedError', 'MongoTopologyClosedError', 'MongooseServerSelectionError']) {
      expect(isUnavailable(Object.assign(new Error('x'), { name }))).toBe(true);
    }
    expect(isUnavailable(Object.assign(new Error('operation exceeded time limit'), { name: 'MongoServerError', code: 50 }))).toBe(true);
    expect(isUnavailable(Object.assign(new Error('Connection was closed'), { name: 'MongooseError' }))).toBe(true);
  });

  it('leaves every other failure a bug to report: a duplicate key, a validation error, a thrown string, nothing', () => {
    expect(isUnavailable(Object.assign(new Error('E11000 duplicate key'), { name: 'MongoServerError', code: 11000 }))).toBe(false);
    expect(isUnavailable(Object.assign(new Error('Cast to ObjectId failed'), { name: 'MongooseError' }))).toBe(false);
    expect(isUnavailable(new TypeError('x is undefined'))).toBe(false);
    expect(isUnavailable(Object.assign(new Error('no such file'), { code: 'ENOENT' }))).toBe(false);
    expect(isUnavailable('EPIPE')).toBe(false);
    expect(isUnavailable(null)).toBe(false);
    expect(isUnavailable(undefined)).toBe(false);
  });
});
