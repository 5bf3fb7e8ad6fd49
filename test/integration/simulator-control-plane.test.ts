import {
  AccessDeniedException,
  BedrockClient,
  ConflictException,
  CreateInferenceProfileCommand,
  DeleteInferenceProfileCommand,
  GetFoundationModelAvailabilityCommand,
  GetFoundationModelCommand,
  GetInferenceProfileCommand,
  ListFoundationModelsCommand,
  ListInferenceProfilesCommand,
  paginateListInferenceProfiles,
  ResourceNotFoundException,
  ValidationException,
} from '@aws-sdk/client-bedrock';
import { BedrockRuntimeClient, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelCatalog } from '../../src/models/catalog.js';
import {
  ProfileSchema,
  type ProfileSimulator,
  startSimulatorWithProfile,
} from '../../src/simulator/index.js';

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const SONNET_37 = 'anthropic.claude-3-7-sonnet-20250219-v1:0';
const SONNET_4 = 'anthropic.claude-sonnet-4-20250514-v1:0';
const TITAN = 'amazon.titan-text-express-v1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

let sim: ProfileSimulator;
const clients: { destroy(): void }[] = [];
/** The real control-plane SDK, signing for `region`, against the simulator. */
function bedrock(region = 'us-east-1', url = sim.url): BedrockClient {
  const client = new BedrockClient({ region, endpoint: url, credentials, maxAttempts: 1 });
  clients.push(client);
  return client;
}

beforeAll(async () => {
  sim = await startSimulatorWithProfile({
    profile: ProfileSchema.parse({ zeroLatency: true, jitter: 0, models: { [TITAN]: { enabled: false } } }),
  });
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await sim.close();
});

describe('the simulated bedrock control plane, through @aws-sdk/client-bedrock', () => {
  it('lists every catalog model with its lifecycle, and filters by provider and inference type', async () => {
    const all = await bedrock().send(new ListFoundationModelsCommand({}));
    const anthropic = await bedrock().send(new ListFoundationModelsCommand({ byProvider: 'Anthropic' }));
    const onDemand = await bedrock().send(
      new ListFoundationModelsCommand({ byProvider: 'anthropic', byInferenceType: 'ON_DEMAND' }),
    );

    expect(all.modelSummaries?.map((m) => m.modelId)).toEqual(new ModelCatalog().list().map((m) => m.id));
    expect(all.modelSummaries?.find((m) => m.modelId === HAIKU)).toMatchObject({
      modelArn: `arn:aws:bedrock:us-east-1::foundation-model/${HAIKU}`,
      providerName: 'Anthropic',
      outputModalities: ['TEXT'],
      inferenceTypesSupported: ['ON_DEMAND'],
      // Claude 3 Haiku is LEGACY on Bedrock's lifecycle page: the control plane says so.
      modelLifecycle: { status: 'LEGACY' },
    });
    expect(anthropic.modelSummaries?.every((m) => m.providerName === 'Anthropic')).toBe(true);
    expect(anthropic.modelSummaries?.map((m) => m.modelId)).toContain(SONNET_37);
    expect(onDemand.modelSummaries?.map((m) => m.modelId)).not.toContain(SONNET_37);
    expect(onDemand.modelSummaries?.map((m) => m.modelId)).toContain(HAIKU);
  });

  it('refuses a filter value outside the enum with a ValidationException naming it', async () => {
    const error = await bedrock()
      .send(new ListFoundationModelsCommand({ byInferenceType: 'BATCH' as 'ON_DEMAND' }))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ValidationException);
    expect((error as Error).message).toMatch(/Value 'BATCH' at 'byInferenceType'.*ON_DEMAND, PROVISIONED/);
  });

  it('gets a model by id or ARN, and answers ResourceNotFoundException for an unknown one', async () => {
    const byId = await bedrock().send(new GetFoundationModelCommand({ modelIdentifier: HAIKU }));
    const byArn = await bedrock('eu-west-1').send(
      new GetFoundationModelCommand({
        modelIdentifier: `arn:aws:bedrock:eu-west-1::foundation-model/${HAIKU}`,
      }),
    );
    const unknown = await bedrock()
      .send(new GetFoundationModelCommand({ modelIdentifier: 'anthropic.claude-9-v1:0' }))
      .catch((e: unknown) => e);

    expect(byId.modelDetails?.modelName).toBe('Claude 3 Haiku');
    expect(byArn.modelDetails?.modelArn).toBe(`arn:aws:bedrock:eu-west-1::foundation-model/${HAIKU}`);
    expect(unknown).toBeInstanceOf(ResourceNotFoundException);
  });

  it('reports a model the profile marks not enabled as not authorized, and an enabled one as available', async () => {
    const enabled = await bedrock().send(new GetFoundationModelAvailabilityCommand({ modelId: HAIKU }));
    const disabled = await bedrock().send(new GetFoundationModelAvailabilityCommand({ modelId: TITAN }));

    expect(enabled).toMatchObject({
      modelId: HAIKU,
      agreementAvailability: { status: 'AVAILABLE' },
      authorizationStatus: 'AUTHORIZED',
      entitlementAvailability: 'AVAILABLE',
      regionAvailability: 'AVAILABLE',
    });
    expect(disabled).toMatchObject({
      agreementAvailability: { status: 'NOT_AVAILABLE' },
      authorizationStatus: 'NOT_AUTHORIZED',
      entitlementAvailability: 'NOT_AVAILABLE',
    });
  });

  it('offers the system profiles of the signing region only, with the regions each routes to', async () => {
    const us = await bedrock().send(
      new GetInferenceProfileCommand({ inferenceProfileIdentifier: `us.${HAIKU}` }),
    );
    const euFromUs = await bedrock()
      .send(new GetInferenceProfileCommand({ inferenceProfileIdentifier: `eu.${HAIKU}` }))
      .catch((e: unknown) => e);
    const euFromEu = await bedrock('eu-west-1').send(
      new GetInferenceProfileCommand({
        inferenceProfileIdentifier: `arn:aws:bedrock:eu-west-1:111122223333:inference-profile/eu.${HAIKU}`,
      }),
    );

    expect(us).toMatchObject({
      inferenceProfileId: `us.${HAIKU}`,
      inferenceProfileArn: `arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.${HAIKU}`,
      type: 'SYSTEM_DEFINED',
      status: 'ACTIVE',
    });
    expect(us.models?.map((m) => m.modelArn)).toEqual(
      ['us-east-1', 'us-east-2', 'us-west-2'].map((r) => `arn:aws:bedrock:${r}::foundation-model/${HAIKU}`),
    );
    expect(us.createdAt).toBeInstanceOf(Date);
    expect(euFromUs).toBeInstanceOf(ResourceNotFoundException);
    expect(euFromEu.models?.map((m) => m.modelArn?.split(':')[3])).toContain('eu-central-1');
  });

  it('pages ListInferenceProfiles with nextToken and filters by type', async () => {
    const ids: string[] = [];
    for await (const page of paginateListInferenceProfiles({ client: bedrock(), pageSize: 5 }, {}))
      ids.push(...(page.inferenceProfileSummaries ?? []).map((p) => p.inferenceProfileId ?? ''));
    const applications = await bedrock().send(
      new ListInferenceProfilesCommand({ typeEquals: 'APPLICATION' }),
    );

    expect(ids).toContain(`us.${HAIKU}`);
    expect(ids).toContain(`global.${SONNET_4}`);
    expect(ids).not.toContain(`global.${HAIKU}`);
    expect(ids).not.toContain(`us.${TITAN}`);
    expect(ids.some((id) => id.startsWith('eu.'))).toBe(false);
    expect(new Set(ids).size).toBe(ids.length);
    expect(applications.inferenceProfileSummaries?.every((p) => p.type === 'APPLICATION')).toBe(true);
  });

  it('makes an application profile that runtime calls reach through its ARN, once per name', async () => {
    const client = bedrock();
    const made = await client.send(
      new CreateInferenceProfileCommand({
        inferenceProfileName: 'control-plane-test',
        modelSource: { copyFrom: `arn:aws:bedrock:us-east-1::foundation-model/${HAIKU}` },
      }),
    );
    const arn = made.inferenceProfileArn!;
    const runtime = new BedrockRuntimeClient({
      region: 'us-east-1',
      endpoint: sim.url,
      credentials,
      maxAttempts: 1,
    });
    clients.push(runtime);
    const body = JSON.stringify({
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: 20,
      messages: [{ role: 'user', content: 'Hello' }],
    });
    const answer = await runtime.send(
      new InvokeModelCommand({ modelId: arn, body, contentType: 'application/json' }),
    );
    const again = await client
      .send(
        new CreateInferenceProfileCommand({
          inferenceProfileName: 'control-plane-test',
          modelSource: { copyFrom: `arn:aws:bedrock:us-east-1::foundation-model/${HAIKU}` },
        }),
      )
      .catch((e: unknown) => e);
    const described = await client.send(new GetInferenceProfileCommand({ inferenceProfileIdentifier: arn }));
    await client.send(new DeleteInferenceProfileCommand({ inferenceProfileIdentifier: arn }));
    const gone = await client
      .send(new GetInferenceProfileCommand({ inferenceProfileIdentifier: arn }))
      .catch((e: unknown) => e);

    expect(arn).toMatch(
      /^arn:aws:bedrock:us-east-1:111122223333:application-inference-profile\/[a-z0-9]{12}$/,
    );
    expect(made.status).toBe('ACTIVE');
    expect(answer.$metadata.httpStatusCode).toBe(200);
    expect(again).toBeInstanceOf(ConflictException);
    expect(described).toMatchObject({
      type: 'APPLICATION',
      models: [{ modelArn: expect.stringContaining(HAIKU) }],
    });
    expect(gone).toBeInstanceOf(ResourceNotFoundException);
  });

  it('answers AccessDeniedException to every operation when the control plane is denied', async () => {
    const denied = await startSimulatorWithProfile({ controlPlane: { access: 'denied' } });
    try {
      const client = bedrock('us-east-1', denied.url);
      const list = await client.send(new ListFoundationModelsCommand({})).catch((e: unknown) => e);
      const availability = await client
        .send(new GetFoundationModelAvailabilityCommand({ modelId: HAIKU }))
        .catch((e: unknown) => e);

      expect(list).toBeInstanceOf(AccessDeniedException);
      expect((list as Error).message).toMatch(/bedrock:ListFoundationModels/);
      expect(availability).toBeInstanceOf(AccessDeniedException);
      expect((availability as Error).message).toMatch(/bedrock:GetFoundationModelAvailability/);
    } finally {
      await denied.close();
    }
  });
});
