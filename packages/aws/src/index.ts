/**
 * @sluice/aws: Sluice's refresh policy under the AWS SDK for JavaScript v3, as a drop-in
 * `credentials:` value for any client.
 *
 * @packageDocumentation
 */

export {
  type AwsCredentials,
  type AwsCredentialsOptions,
  type AwsIdentityRequest,
  awsCredentials,
} from './aws-credentials.js';
export { type AwsMintOptions, awsKeyedMint, awsMint } from './aws-mint.js';
export { awsCredentialCodec } from './credential-codec.js';
export {
  type AwsCredentialsByKey,
  type AwsCredentialsByKeyOptions,
  type AwsKeyCredentials,
  awsCredentialsByKey,
} from './keyed-credentials.js';
