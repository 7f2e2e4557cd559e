/** Every connector error is a ConnectorError: its kind, not its class name, decides retry, wait or stop. */
import { ConnectorError, isConnectorError } from '../../connectors/connector-error';
import { InvalidConnectorError, ThrottledError } from '../../connectors/connector';
import { AccessDeniedError, TransientHttpError } from '../../connectors/http/http-client';
import { AuthenticationError } from '../../connectors/http/token-client';
import { UntrustedUrlError } from '../../connectors/http/url-policy';
import { InvalidFilterError } from '../../connectors/knex-filter';
import { DataverseRequestError } from '../../connectors/dataverse/dataverse-connector';
import { DataverseConfigurationError } from '../../connectors/dataverse/options';
import { InvalidQueryError } from '../../connectors/dataverse/odata-query';
import { BatchFormatError } from '../../connectors/dataverse/batch';
import { BusinessCentralRequestError } from '../../connectors/business-central/business-central-connector';
import { ODataQueryError } from '../../connectors/business-central/odata-query';
import { BatchProtocolError } from '../../connectors/business-central/batch';
import { NumberPrefixError } from '../../connectors/business-central/record-number';
import { isPermanentConfigurationError, isTransientError } from '../../connectors/transient';

test('each error keeps its name and message, and says its kind', () => {
  const cases: [ConnectorError, string, ConnectorError['kind']][] = [
    [new ThrottledError('slow down', 1000, 429), 'ThrottledError', 'throttled'],
    [new TransientHttpError('HTTP 503', 503), 'TransientHttpError', 'transient'],
    [new AuthenticationError('invalid_client', 401), 'AuthenticationError', 'auth'],
    [new UntrustedUrlError('not the configured origin'), 'UntrustedUrlError', 'auth'],
    [new AccessDeniedError('HTTP 403', 403), 'AccessDeniedError', 'permanent'],
    [new DataverseRequestError('HTTP 400', 400, '0x80060888'), 'DataverseRequestError', 'permanent'],
    [new DataverseRequestError('HTTP 404', 404), 'DataverseRequestError', 'notFound'],
    [new BusinessCentralRequestError('HTTP 412', 412, 'Request_EntityChanged'), 'BusinessCentralRequestError', 'conflict'],
    [new InvalidConnectorError('not a connector'), 'InvalidConnectorError', 'permanent'],
    [new InvalidFilterError('bad filter'), 'InvalidFilterError', 'permanent'],
    [new DataverseConfigurationError('bad option'), 'DataverseConfigurationError', 'permanent'],
    [new InvalidQueryError('bad query'), 'InvalidQueryError', 'permanent'],
    [new BatchFormatError('bad batch'), 'BatchFormatError', 'permanent'],
    [new ODataQueryError('bad query'), 'ODataQueryError', 'permanent'],
    [new BatchProtocolError('bad batch'), 'BatchProtocolError', 'permanent'],
    [new NumberPrefixError('bad prefix'), 'NumberPrefixError', 'permanent'],
  ];
  for (const [error, name, kind] of cases) {
    expect(error).toBeInstanceOf(ConnectorError);
    expect(error).toBeInstanceOf(Error);
    expect([error.name, error.kind]).toEqual([name, kind]);
    expect(String(error)).toBe(`${name}: ${error.message}`);
  }
  const refused = new BusinessCentralRequestError('HTTP 400', 400, 'BadRequest');
  expect([refused.status, refused.serviceCode]).toEqual([400, 'BadRequest']);
});

test('the cause is the ES2022 one, and absent unless given', () => {
  const cause = new Error('socket hang up');
  expect(new ConnectorError('failed', { kind: 'transient', cause }).cause).toBe(cause);
  expect('cause' in new ConnectorError('failed', { kind: 'transient' })).toBe(false);
});

test('classification goes by kind, also for an error from another copy of the module', () => {
  expect(isTransientError(new ConnectorError('HTTP 502', { kind: 'transient', status: 502 }))).toBe(true);
  expect(isTransientError(new BusinessCentralRequestError('HTTP 400', 400))).toBe(false);
  expect(isPermanentConfigurationError(new UntrustedUrlError('elsewhere'))).toBe(true);
  expect(isPermanentConfigurationError(new AccessDeniedError('HTTP 403', 403))).toBe(false);
  expect(isConnectorError(new Error('plain'))).toBe(false);

  let other: { TransientHttpError: typeof TransientHttpError; AuthenticationError: typeof AuthenticationError } | undefined;
  jest.isolateModules(() => {
    other = {
      TransientHttpError: (jest.requireActual('../../connectors/http/http-client') as typeof import('../../connectors/http/http-client')).TransientHttpError,
      AuthenticationError: (jest.requireActual('../../connectors/http/token-client') as typeof import('../../connectors/http/token-client'))
        .AuthenticationError,
    };
  });
  const copy = new other!.TransientHttpError('HTTP 503', 503);
  expect(copy).not.toBeInstanceOf(TransientHttpError);
  expect(isTransientError(copy)).toBe(true);
  expect(isPermanentConfigurationError(new other!.AuthenticationError('invalid_client'))).toBe(true);
});
