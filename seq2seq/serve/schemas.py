"""The API's request and response bodies (pydantic), which FastAPI turns into the OpenAPI schema.

Requests are strict: a string where a number belongs, a number where a string belongs, or an
unknown field is a 422, not a guess. A transcribe request's options are query parameters
(its body is the audio), read from text as numbers; an unknown one is a 422 too.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TranslateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    model: str | None = Field(None, description="a served model's name; optional with one model")
    inputs: list[str] = Field(description="sentences (for G2P: words), one translation each")
    beam: int | None = Field(None, description="beam size (default: the model's decode.beam)")
    nbest: int | None = Field(None, description="hypotheses per input, <= beam (default 1)")
    length_penalty: float | None = Field(
        None, description="alpha in score / length**alpha (default: the model's)"
    )
    alignment: bool = Field(
        False, description="add each hypothesis' attention matrix (attention models only)"
    )


class Hypothesis(BaseModel):
    text: str
    score: float = Field(description="log-probability, </s> included")
    norm_score: float = Field(description="the length-normalised score search ranked by")
    tokens: list[str] = Field(description="output tokens (for G2P: the phonemes)")
    alignment: list[list[float]] | None = Field(
        None, description="(len(tokens) + 1) x len(source_tokens): attention over the source"
    )


class Result(BaseModel):
    input: str
    unknown: float = Field(description="share of the input's tokens the model does not know")
    source_tokens: list[str] | None = Field(None, description="given with alignments")
    hypotheses: list[Hypothesis]


class TranslateResponse(BaseModel):
    model: str
    beam: int
    nbest: int
    length_penalty: float
    results: list[Result]


class TranscribeQuery(BaseModel):
    """POST /v1/transcribe's query parameters; the body is the audio file's bytes."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(None, description="a served speech model's name")
    beam: int | None = Field(None, ge=1, description="beam size; 1 = greedy (default: the model's)")
    nbest: int | None = Field(None, ge=1, description="hypotheses, <= beam (default 1)")
    ctc_weight: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="lambda of joint CTC/attention decoding: 0 = attention only, 1 = CTC only "
        "(default: the model's)",
    )


class SpeechHypothesis(BaseModel):
    text: str
    score: float = Field(
        description="the search's log-probability (joint decoding: the weighted sum of both)"
    )


class TranscribeResponse(BaseModel):
    model: str
    beam: int
    nbest: int
    ctc_weight: float = Field(description="the weight the search used")
    seconds: float = Field(description="the audio's length")
    text: str = Field(description="the best transcript")
    hypotheses: list[SpeechHypothesis] = Field(description="the n-best, best first")


class Error(BaseModel):
    detail: str = Field(description="one line: what is wrong and, where it helps, what to do")
