import { describe, expect, it } from 'vitest';
import { ModelCatalog } from '../../src/models/catalog.js';
import { adapterFor } from '../../src/models/families/index.js';
import { NATIVE_FIELDS } from '../../src/models/native-fields.js';
import { NATIVE_FAMILIES } from '../../src/models/request.js';
import { SIM_FAMILIES } from '../../src/simulator/native/index.js';
import { isSimError } from '../../src/simulator/native/validate.js';

const catalog = new ModelCatalog();
const cases = NATIVE_FAMILIES.flatMap((family) => NATIVE_FIELDS[family].map((field) => ({ family, field })));

describe('the native fields the model table documents', () => {
  it('names at least one field for every family but Llama, whose body has none beyond the shared params', () => {
    for (const family of NATIVE_FAMILIES)
      expect(NATIVE_FIELDS[family].length > 0, family).toBe(family !== 'llama');
  });

  it.each(cases)(
    '$family $field.name reaches the body and Bedrock (the simulator) takes it',
    ({ family, field }) => {
      const model = catalog.list().find((m) => m.family === family && !m.profileOnly)!;
      const body = adapterFor(family).toNative(
        {
          messages: [{ role: 'user', content: 'Hello' }],
          params: { maxTokens: 50 },
          native: { [family]: field.example },
        },
        model,
      );
      const limits = { baseId: model.id, maxOutputTokens: model.maxOutputTokens };

      const [top, inner] = field.name.split('.');
      expect(body).toHaveProperty(inner ? [top!, inner] : [top!]);
      const parsed = SIM_FAMILIES[family].parse(body, limits);
      expect(isSimError(parsed) ? parsed.message : 'accepted').toBe('accepted');
    },
  );
});
