"""The training loop: teacher forcing + cross-entropy, clipping, bf16 autocast where native, validation,
best/last checkpoints with the complete training state, exact resume, early stopping.

Resume is automatic: if RUN_DIR/checkpoints/last.pt exists, training continues from it
with the same batches, learning rate and random state as an uninterrupted run. Ctrl-C
finishes the current step, writes `last.pt` and exits; the same command resumes.
"""

from __future__ import annotations

import json
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import torch
from tqdm import tqdm

from .. import checkpoints
from ..config import Config, config_to_dict, copies, save_config
from ..data import BucketSampler, Processor, collate, inference_batches, references
from ..data.corpus import load_splits, save_derived_splits
from ..data.processor import dropped_summary
from ..decoding.batched import decode_all
from ..decoding.constraints import source_constraints
from ..errors import Interrupted, UserError
from ..evaluation import METRICS, is_better, perplexity, score
from ..kernels.memory import keep_freed_memory
from ..models import build_model, count_parameters
from ..precision import training_precision
from ..vocab import PAD_ID
from . import distill, distributed, start
from .logbook import Logbook
from .loss import token_loss
from .optim import Schedule, build_optimizer
from .signals import StopFlag, finish_the_step


def _log(message: str) -> None:
    """Progress messages go to stderr (stdout carries results), around the progress bar."""
    tqdm.write(message, file=sys.stderr)


def pick_device(local_rank: int = 0) -> torch.device:
    return torch.device(f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu")


class Trainer:
    """One training run in `run_dir`; `run()` trains it. Built in the order the run needs:
    runtime, data, model, sampler, distillation, optimiser, a resume's state; only then is
    anything written in `run_dir` (`_open_run`)."""

    def __init__(self, cfg: Config, run_dir: str | Path, *, progress: bool = True, log=_log):
        self.dist = distributed.init()
        main = self.dist.is_main
        self.cfg, self.run_dir, self.show_progress = cfg, Path(run_dir), progress and main
        self.log = log if main else (lambda *a, **k: None)
        if self.run_dir.exists() and not self.run_dir.is_dir():
            raise UserError(f"{self.run_dir}: a file, not a run directory; pass another --out")
        self._setup_runtime()
        resume = start.resume_state(cfg, self.run_dir)
        init = None if resume else start.init_state(cfg, self.log)
        splits = self._build_data(
            resume.state if resume else init or start.vocab_state(cfg, self.log)
        )
        if not self.dev_examples:
            start.without_dev(cfg, self.log)
        self._build_model(init)
        self._build_sampler()
        self.teacher_targets = self._distillation_targets()
        self.optimizer = build_optimizer(cfg.train, self.model.parameters())
        self.schedule = Schedule(cfg.train, self.optimizer, len(self.sampler))
        self.counters = {
            "step": 0,
            "tokens": 0,
            "train_seconds": 0.0,
            "best": None,
            "bad_validations": 0,
            "validated": 0,  # the step of the last validation
        }
        if resume:
            self._load_training_state(resume.state)
        self.stop = StopFlag()
        if main:
            self._open_run(resume, splits)
        self.logbook = Logbook(
            self.run_dir, main and cfg.train.tensorboard, self.log, self.counters["step"]
        )

    def _open_run(self, resume: start.Resume | None, splits: dict) -> None:
        """Write the run's files once everything is checked, so a run that fails to start
        writes nothing (not even its folder); remove what a killed run left half-written."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        count, size = start.remove_unfinished(self.run_dir)
        if count:
            self.log(
                f"removed {count} unfinished write(s) ({size / 1e6:.1f} MB) "
                "left by a run killed while saving"
            )
        save_derived_splits(self.cfg.data, splits, self.run_dir)
        redo = start.trim_metrics(self.run_dir, self.counters["step"])
        if redo:
            self.log(f"{start.METRICS}: {redo} line(s) past step {self.counters['step']} dropped")
        if resume:
            start.record_changes(self.run_dir, self.counters["step"], resume.changes, self.log)
        save_config(self.cfg, self.run_dir / "config.yaml")

    # -- building the run ----------------------------------------------------------------

    def _setup_runtime(self) -> None:
        """Threads, allocator, seed, device and precision."""
        if self.cfg.train.threads:
            torch.set_num_threads(self.cfg.train.threads)
        keep_freed_memory()
        torch.manual_seed(self.cfg.train.seed)
        self.device = pick_device(self.dist.local_rank)
        self.precision = training_precision(self.cfg.train.precision, self.device)
        if self.precision.warning:
            self.log(self.precision.warning)
        self.amp = self.precision.autocast_dtype

    def _build_data(self, start_state: dict | None) -> dict:
        """The processor (fitted here, or from the state the run starts from), and the
        training and dev examples as ids; returns the splits' text."""
        cfg = self.cfg
        splits = load_splits(cfg.data)
        self.processor = (
            Processor.from_state(cfg.data, start_state["processor"])
            if start_state
            else Processor.fit(cfg.data, splits["train"], copy=copies(cfg))
        )
        self.processor.copy = copies(cfg)  # extended ids: this run's model decides
        self.train_examples, dropped = self.processor.training_examples(splits["train"])
        summary = dropped_summary(dropped, len(splits["train"]), cfg.data) if dropped else ""
        if not self.train_examples:
            raise UserError(
                f"no training pairs left ({summary}); fix the data, or raise "
                "data.max_src_len / max_tgt_len"
            )
        if dropped:
            fitted = "" if start_state else ", and the vocabularies are counted on them"
            self.log(f"{summary}; training uses the {len(self.train_examples):,} kept{fitted}")
        self.dev_pairs = splits["dev"]
        self.dev_examples = self.processor.examples(self.dev_pairs, filter_length=False)
        return splits

    def _build_model(self, init: dict | None) -> None:
        """The model (with `train.init_from`'s weights), on the device; `self.net` is what
        training calls: the model, or its DDP wrapper."""
        self.model = build_model(self.cfg.model, *self.model_sizes())
        if init:
            self.model.load_state_dict(init["model"])
        self.model.to(self.device)
        self.net = self.model
        if self.dist.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=ids)

    def model_sizes(self) -> tuple[int, int]:
        """What `build_model` needs besides the config: here the vocabularies' sizes."""
        return len(self.processor.src_vocab), len(self.processor.tgt_vocab)

    def close(self, *, clean: bool = True) -> None:
        """Close the event files and leave the process group: drop the DDP wrapper first,
        since it holds the group (and with it gloo's threads) for as long as it lives."""
        self.logbook.close()
        self.net = self.model
        distributed.shutdown(self.dist, clean=clean)

    def example_lengths(self) -> list[tuple[int, int]]:
        """(source, target) length of each training example: what the length buckets sort."""
        return [(len(s), len(t)) for s, t in self.train_examples]

    def _build_sampler(self) -> None:
        train = self.cfg.train
        self.sampler = BucketSampler(
            self.example_lengths(),
            batch_tokens=train.batch_tokens,
            batch_size=train.batch_size,
            seed=train.seed,
            rank=self.dist.rank,
            world_size=self.dist.world_size,
        )
        if len(self.sampler) == 0:
            raise UserError(
                f"only {len(self.sampler.epoch_batches(0))} batches per epoch for {self.dist.world_size} "
                "processes; use fewer processes or a smaller train.batch_tokens / batch_size"
            )

    def _distillation_targets(self) -> distill.TeacherTargets | None:
        """The teachers' top-k distributions over the training set (`train.distill_from`)."""
        cfg = self.cfg
        if not cfg.train.distill_from:
            return None
        teachers = distill.load_teachers(
            cfg.train.distill_from, cfg, self.processor.state(), self.device
        )
        self.log(f"distilling from {len(teachers)} teacher(s): their top-k over the training set")
        return distill.teacher_targets(
            teachers,
            self.train_examples,
            k=cfg.train.distill_topk,
            device=self.device,
            autocast=self._autocast,
            progress=self.show_progress,
        )

    # -- state ---------------------------------------------------------------------------

    def _load_training_state(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        self.sampler.load_state_dict(state["sampler"])
        self.counters = {"validated": state["counters"]["step"], **state["counters"]}
        torch.set_rng_state(state["rng"]["torch"])
        if "cuda" in state["rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])
        self.log(
            f"resumed from {self.run_dir / 'checkpoints' / 'last.pt'} at step {self.counters['step']}"
        )

    def _model_state(self) -> dict:
        return {
            "config": config_to_dict(self.cfg),
            "processor": self.processor.state(),
            "model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
        }

    def training_state(self) -> dict:
        """Everything an exact resume needs: weights, optimizer, schedule, sampler, RNG, counters."""
        rng = {"torch": torch.get_rng_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        return {
            **self._model_state(),
            "optimizer": self.optimizer.state_dict(),
            "schedule": self.schedule.state_dict(),
            "sampler": self.sampler.state_dict(),
            "counters": dict(self.counters),
            "rng": rng,
        }

    def save_last(self) -> None:
        if not self.dist.is_main:
            return
        checkpoints.save(self.training_state(), self.run_dir / "checkpoints" / "last.pt")

    # -- steps ---------------------------------------------------------------------------

    def _autocast(self):
        if self.amp is None:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp)

    def _loss_sum(self, batch, label_smoothing: float = 0.0, net=None, soft=None) -> torch.Tensor:
        """Summed token loss; `soft` = the teachers' (ids, probs) for distillation."""
        targets = batch.tgt_out.to(self.device)
        keep = targets != PAD_ID  # the output layer and the loss see real tokens only
        with self._autocast():
            logits = (net or self.model)(
                batch.src.to(self.device), batch.src_len, batch.tgt_in.to(self.device), keep
            )  # (N, V)
        loss = token_loss(logits, targets[keep], label_smoothing)
        if soft is None:
            return loss
        w = self.cfg.train.distill_weight
        return (1 - w) * loss + w * distill.soft_loss(logits, *soft)

    def train_step(self, batch, indices=None) -> torch.Tensor:
        """One update; returns the summed token loss as a tensor (no host sync on one process).

        The loss is normalised by the target tokens of the whole (all-rank) batch, so DDP's
        gradient average over N ranks equals one process's gradient on the joined batch.
        """
        self.model.train()
        soft = None
        if self.teacher_targets is not None and indices is not None:
            soft = self.teacher_targets.gather(indices, self.device)
        loss = self._loss_sum(batch, self.cfg.train.label_smoothing, self.net, soft)
        tokens = distributed.all_sum(batch.n_tgt_tokens, self.dist, self.device)
        self.step_tokens = int(tokens)
        (loss * (self.dist.world_size / tokens)).backward()
        self.grad_norm = None  # the norm before clipping, a tensor: read at the host syncs
        if self.cfg.train.clip_norm > 0:
            self.grad_norm = torch.nn.utils.clip_grad_norm_(
                self.model.parameters(), self.cfg.train.clip_norm
            )
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.schedule.step()
        return loss.detach()

    @torch.no_grad()
    def dev_loss(self) -> tuple[float, int]:
        self.model.eval()
        total, n = 0.0, 0
        for idx in inference_batches([len(s) for s, _ in self.dev_examples], 128):
            batch = collate([self.dev_examples[i] for i in idx])
            total += float(self._loss_sum(batch))
            n += batch.n_tgt_tokens
        return total, n

    @torch.no_grad()
    def dev_metric(self) -> dict:
        sources, refs = references(self.dev_pairs)
        if self.cfg.train.valid_max_sentences:
            sources = sources[: self.cfg.train.valid_max_sentences]
            refs = refs[: len(sources)]
        self.model.eval()
        ids = [self.processor.encode_src(s) for s in sources]
        with self._autocast():
            hyps = decode_all(
                self.model,
                ids,
                self.cfg.decode,
                device=self.device,
                greedy=True,
                constraints=source_constraints(self.cfg.decode, self.processor, ids),
            )
        texts = [self.processor.decode_tgt(h[0].tokens, s) for h, s in zip(hyps, sources)]
        return score(self.cfg.train.metric, texts, refs, tokenize=self.cfg.train.bleu_tokenize)

    def dev_scores(self) -> dict:
        """What a validation reports of the dev set: loss, perplexity, the task metric."""
        nll, n = self.dev_loss()
        scores = {"dev_loss": nll / n, "dev_ppl": perplexity(nll, n)}
        if METRICS[self.cfg.train.metric].decoded:
            scores.update({f"dev_{k}": v for k, v in self.dev_metric().items()})
        return scores

    def batch(self, indices: list[int]):
        """The training batch of these examples."""
        return collate([self.train_examples[i] for i in indices])

    # -- validation ----------------------------------------------------------------------

    def validate(self, train_loss: float | None) -> bool:
        """Dev loss/perplexity and task metric; writes best/last; True = stop early."""
        c, metric = self.counters, self.cfg.train.metric
        entry = {
            "step": c["step"],
            "epoch": round(c["step"] / len(self.sampler), 3),
            "lr": self.schedule.lr,
            "train_loss": train_loss,
        }
        if self.dev_examples:
            entry.update(self.dev_scores())
        value = entry.get(f"dev_{metric}")
        improved = value is None or is_better(metric, value, c["best"])  # None: no dev set
        if improved:
            c["best"], c["bad_validations"] = value, 0
            best = {**self._model_state(), "metrics": entry}  # what a model needs, not a resume
            checkpoints.save(best, self.run_dir / "checkpoints" / "best.pt")
        else:
            c["bad_validations"] += 1
        self.schedule.validated(improved)
        if self.cfg.train.keep_checkpoints:
            checkpoints.keep_recent(
                self._model_state(),
                self.run_dir / "checkpoints",
                c["step"],
                self.cfg.train.keep_checkpoints,
            )
        with open(self.run_dir / start.METRICS, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
        self.logbook.validation(entry)
        c["validated"] = c["step"]
        self.save_last()  # the commit point: a run killed before it redoes this validation
        shown = ", ".join(
            f"{k} {v:.4g}" for k, v in entry.items() if isinstance(v, float) and k != "lr"
        )
        self.log(
            f"step {c['step']} (epoch {entry['epoch']}): {shown}" + (" *best*" if improved else "")
        )
        patience = self.cfg.train.patience
        return bool(patience and c["bad_validations"] >= patience)

    # -- the loop ------------------------------------------------------------------------

    def total_steps(self) -> int:
        return self.schedule.total_steps

    def _time_spent(self) -> float:
        """The share of `train.max_minutes` used so far; 0 without a time limit."""
        limit = self.cfg.train.max_minutes
        return self.counters["train_seconds"] / (limit * 60) if limit else 0.0

    def _out_of_time(self) -> bool:
        return self._time_spent() >= 1.0

    def run(self) -> dict:
        """Train until the step budget, the time limit or early stopping; returns a summary."""
        c, total = self.counters, self.total_steps()
        self.log(
            f"model: {count_parameters(self.model):,} parameters; {len(self.train_examples):,} training "
            f"pairs in {len(self.sampler):,} batches/epoch; {total:,} steps; device {self.device}, "
            f"{self.precision.reason}; run dir {self.run_dir}"
        )
        bar = tqdm(
            total=total,
            initial=c["step"],
            unit="step",
            disable=not self.show_progress,
            dynamic_ncols=True,
            mininterval=1.0,
        )
        stop = c["step"] >= total and not self._validation_missed()
        with finish_the_step(self.stop, self.log):
            if self._validation_missed():  # stopped after a step that validates, before it
                stop = self._validate_and_decide(None, total)
            while not stop:
                train_loss = self._train_until_validation(bar, total)
                stop = self._validate_and_decide(train_loss, total)
        bar.close()
        return {
            "steps": c["step"],
            "train_seconds": round(c["train_seconds"], 1),
            "target_tokens": c["tokens"],
            "tokens_per_second": round(c["tokens"] / max(c["train_seconds"], 1e-9)),
            f"best_dev_{self.cfg.train.metric}": c["best"],
        }

    def _validation_missed(self) -> bool:
        """The run was stopped (Ctrl-C, SIGTERM) right after a step that validates, before the
        validation: a resume validates first, as the uninterrupted run did."""
        c, every = self.counters, self.cfg.train.valid_every
        if c["step"] == 0 or c["validated"] == c["step"]:
            return False
        grid = every if every else len(self.sampler)  # every N steps, or at each epoch's end
        return c["step"] >= self.total_steps() or c["step"] % grid == 0

    def _validate_and_decide(self, train_loss: float | None, total: int) -> bool:
        """Validate (on rank 0) and decide, on every rank alike, whether training stops."""
        c = self.counters
        early = self.validate(train_loss) if self.dist.is_main else False
        early, out_of_time, halvings = distributed.from_main(
            [early, self._out_of_time(), self.schedule.plateau_halvings],
            self.dist,
            self.device,
        )
        if halvings != self.schedule.plateau_halvings:  # follow rank 0's plateau decisions
            self.schedule.load_state_dict({"plateau_halvings": int(halvings)})
        if early:
            self.log(f"early stop: no improvement in {self.cfg.train.patience} validations")
        elif out_of_time and c["step"] < total:
            self.log(f"time limit reached (train.max_minutes = {self.cfg.train.max_minutes:g})")
        return bool(early or out_of_time) or c["step"] >= total

    def _train_until_validation(self, bar, total: int) -> float:
        """Steps up to the next validation point (epoch end or every `valid_every` steps, the
        step budget, the time limit); returns the mean training loss per target token."""
        c, every = self.counters, self.cfg.train.valid_every
        loss_sum, tokens, start = torch.zeros((), device=self.device), 0, time.perf_counter()
        while True:
            for idx in self.sampler:  # this epoch's remaining batches
                t0 = time.perf_counter()
                batch = self.batch(idx)
                loss_sum = loss_sum + self.train_step(batch, idx)
                c["step"], c["tokens"] = c["step"] + 1, c["tokens"] + self.step_tokens
                tokens += batch.n_tgt_tokens
                c["train_seconds"] += time.perf_counter() - t0
                bar.update(1)
                if c["step"] % 50 == 0:  # the only host sync, for the progress bar
                    rate, loss = tokens / (time.perf_counter() - start), float(loss_sum) / tokens
                    bar.set_postfix_str(
                        f"loss {loss:.3f} lr {self.schedule.lr:.3g} {rate:,.0f} tok/s"
                    )
                    self.logbook.progress(
                        c["step"],
                        loss=loss,
                        lr=self.schedule.lr,
                        tokens_per_s=rate,
                        grad_norm=self.grad_norm,
                    )
                interrupted, time_spent = distributed.from_main(
                    [self.stop.requested, self._time_spent()], self.dist, self.device
                )
                self.schedule.spent_time(time_spent)  # rank 0's clock: one lr on every rank
                out_of_time = time_spent >= 1.0
                if interrupted:
                    self.save_last()
                    bar.close()
                    raise Interrupted(
                        f"interrupted at step {c['step']}; saved "
                        f"{self.run_dir / 'checkpoints' / 'last.pt'}; run the same command to resume",
                        int(self.stop.signum),
                    )
                if c["step"] >= total or out_of_time or (every and c["step"] % every == 0):
                    return float(loss_sum) / max(1, tokens)
            # the epoch ended; an epoch with nothing left (a run resumed at its last step,
            # e.g. to train more epochs) was validated already, so train on into the next
            if not every and tokens:
                return float(loss_sum) / max(1, tokens)
