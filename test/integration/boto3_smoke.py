"""boto3 against the simulator: every operation, errors as botocore exceptions.

Usage: python3 boto3_smoke.py http://127.0.0.1:PORT
The simulator must refuse admission to Mistral 7B (throttle) and break Nova Micro streams
after two chunks with a ModelStreamErrorException, as simulator-boto3.test.ts sets it up.
Prints one JSON object with what each call returned; exits 1 on the first surprise.
"""

import json
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import EventStreamError

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
CLAUDE_BODY = json.dumps(
    {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 200,
        "messages": [{"role": "user", "content": "Hello from boto3"}],
    }
)
MESSAGES = [{"role": "user", "content": [{"text": "Hello from boto3"}]}]
HAIKU_35 = "anthropic.claude-3-5-haiku-20241022-v1:0"
TWO_USER_TURNS = json.dumps(
    {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 200,
        "messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}],
    }
)


def main(endpoint: str) -> dict:
    client = boto3.client(
        "bedrock-runtime",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIDTEST",
        aws_secret_access_key="test-secret",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    out: dict = {}

    r = client.invoke_model(modelId=HAIKU, body=CLAUDE_BODY, contentType="application/json")
    body = json.loads(r["body"].read())
    headers = r["ResponseMetadata"]["HTTPHeaders"]
    out["invoke"] = {
        "type": body["type"],
        "inputTokens": body["usage"]["input_tokens"],
        "headerInputTokens": int(headers["x-amzn-bedrock-input-token-count"]),
        "requestId": r["ResponseMetadata"]["RequestId"],
    }

    r = client.invoke_model_with_response_stream(modelId=HAIKU, body=CLAUDE_BODY)
    chunks = [json.loads(e["chunk"]["bytes"]) for e in r["body"] if "chunk" in e]
    out["stream"] = {
        "chunks": len(chunks),
        "first": chunks[0]["type"],
        "metrics": chunks[-1]["amazon-bedrock-invocationMetrics"],
    }

    r = client.converse(modelId="amazon.nova-lite-v1:0", messages=MESSAGES)
    out["converse"] = {"stopReason": r["stopReason"], "usage": r["usage"], "text": r["output"]["message"]["content"][0]["text"]}

    r = client.converse_stream(modelId="amazon.nova-lite-v1:0", messages=MESSAGES)
    out["converseStream"] = [next(iter(e)) for e in r["stream"]]

    r = client.invoke_model(modelId=HAIKU_35, body=CLAUDE_BODY, contentType="application/json")
    counted = json.loads(r["body"].read())["usage"]["input_tokens"]
    r = client.count_tokens(modelId=HAIKU_35, input={"invokeModel": {"body": CLAUDE_BODY.encode()}})
    out["countTokens"] = {"counted": r["inputTokens"], "invoked": counted}

    try:
        client.count_tokens(modelId=HAIKU, input={"invokeModel": {"body": CLAUDE_BODY.encode()}})
        raise SystemExit("CountTokens answered for Claude 3 Haiku")
    except client.exceptions.ValidationException as e:
        out["noCounting"] = e.response["Error"]["Message"]

    # Anthropic's own refusal reaches a response stream as an exception event after HTTP 200.
    r = client.invoke_model_with_response_stream(modelId=HAIKU, body=TWO_USER_TURNS)
    status = r["ResponseMetadata"]["HTTPStatusCode"]
    try:
        for _ in r["body"]:
            pass
        raise SystemExit("the refused stream ended cleanly")
    except EventStreamError as e:
        out["inStream"] = {"status": status, "code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"]}

    try:
        client.invoke_model(modelId="amazon.titan-text-express-v1", body=CLAUDE_BODY)
        raise SystemExit("a Claude body sent to Titan was accepted")
    except client.exceptions.ValidationException as e:
        out["validation"] = {"message": e.response["Error"]["Message"], "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}

    try:
        client.invoke_model(modelId="acme.unknown-v1:0", body=CLAUDE_BODY)
        raise SystemExit("an unknown model was accepted")
    except client.exceptions.ValidationException as e:
        out["unknownModel"] = {"message": e.response["Error"]["Message"], "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}

    try:
        client.invoke_model(modelId="mistral.mistral-7b-instruct-v0:2", body=json.dumps({"prompt": "[INST] hi [/INST]"}))
        raise SystemExit("a throttled call was accepted")
    except client.exceptions.ThrottlingException as e:
        out["throttled"] = e.response["ResponseMetadata"]["HTTPStatusCode"]

    r = client.invoke_model_with_response_stream(
        modelId="amazon.nova-micro-v1:0", body=json.dumps({"messages": MESSAGES})
    )
    received = 0
    try:
        for event in r["body"]:
            if "chunk" in event:
                received += 1
        raise SystemExit("the broken stream ended cleanly")
    except EventStreamError as e:
        out["broken"] = {"code": e.response["Error"]["Code"], "chunks": received}

    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
