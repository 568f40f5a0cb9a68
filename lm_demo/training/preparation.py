"""A run's model and data, before the Trainer starts: steps 1 to 3 of ``runner``.

``prepare_model``: a fresh trainable copy of the base model (or a new random
GPT-2) and its tokenizer.  ``prepare_data``: the corpus read, tokenized and
packed into blocks in the process's one preparation slot, the automatic
settings resolved for it, held to the caps and checked against the memory.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from lm_demo.errors import UserError
from lm_demo.locales import t
from lm_demo.training import distributed
from lm_demo.training.config import TrainConfig
from lm_demo.training.events import Poster


def prepare_model(cfg: TrainConfig) -> tuple[Any, Any, dict, list[str]]:
    """A fresh, trainable (fp32) copy of the base model, or a new random GPT-2.

    Never the instance in ``MODEL_CACHE``: the inference tabs keep using it
    while we train.  The tokenizer always comes from the base model.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GPT2Config, GPT2LMHeadModel

    from lm_demo.models import LOAD_LOCK, align_special_tokens, hub_reachable, load_model

    loaded = load_model(cfg.base_model)
    notes = list(loaded.notes)
    local_only = loaded.source != "hub" or not hub_reachable()
    with LOAD_LOCK:  # from_pretrained is not thread-safe against a concurrent load (see models.LOAD_LOCK)
        tok = AutoTokenizer.from_pretrained(loaded.resolved, local_files_only=local_only)
    if tok.eos_token_id is None:
        raise UserError("train.err.no_eos", name=loaded.name)
    info = {"base_model": loaded.name, "resolved": loaded.resolved, "source": loaded.source}
    if cfg.from_scratch:
        torch.manual_seed(cfg.seed)
        config = GPT2Config(
            vocab_size=len(tok), n_positions=cfg.n_positions or 128, n_embd=cfg.n_embd,
            n_layer=cfg.n_layer, n_head=cfg.n_head,
            bos_token_id=tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id,
            eos_token_id=tok.eos_token_id,
            pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id,
        )
        model = GPT2LMHeadModel(config)
        info.update(architecture="GPT2LMHeadModel", n_layer=cfg.n_layer, n_head=cfg.n_head, n_embd=cfg.n_embd)
    else:
        with LOAD_LOCK:
            model = AutoModelForCausalLM.from_pretrained(loaded.resolved, local_files_only=local_only,
                                                         dtype=torch.float32)
    align_special_tokens(model, tok)
    info["params"] = int(sum(p.numel() for p in model.parameters()))
    return model, tok, info, notes


def prepare_data(cfg: TrainConfig, post: Poster, tok: Any, model: Any, params: int,
                  device: str) -> tuple[TrainConfig, Any, Any]:
    """(resolved config, corpus, PackedData) on the main process; the config alone elsewhere.

    The corpus is read and tokenized in the process's one preparation slot
    (``corpora.prepared``: bounded, one at a time, memory given back after);
    the resolved settings are then held to the caps (``caps``) and checked
    against the free memory (``resources``).  The corpus comes back without
    its texts (the blocks hold what training needs).
    """
    from lm_demo import corpora, packing
    from lm_demo.corpora.prepare import JOB_WAIT_S
    from lm_demo.training import caps, defaults, resources
    from lm_demo.training.samples import model_positions

    positions = model_positions(model)
    post({"type": "stage", "stage": "corpus"})

    def work() -> tuple[TrainConfig, Any, Any]:
        corpus = corpora.load_corpus(cfg.corpus)
        for n in corpus.notes:
            post.note(n)
        post({"type": "stage", "stage": "data"})
        ids = packing.tokenize_texts(corpus.texts, tok)
        n_tokens = sum(len(x) + 1 for x in ids)
        c, auto_notes = defaults.resolve(cfg, len(corpus.texts), n_tokens, params=params, device=device,
                                         positions=positions, world_size=distributed.world_size())
        for n in auto_notes:
            post.note(n)
        if c.block_size > positions:
            post.note(t("train.note.block_clamped", value=positions, max=positions))
            c = replace(c, block_size=positions)
        data = packing.build_datasets(corpus.texts, tok, block_size=c.block_size, recipe=c.recipe,
                                      eval_fraction=c.eval_fraction, seed=c.seed, max_eval_blocks=c.max_eval_blocks,
                                      ids=ids)
        for n in data.notes:
            post.note(n)
        return c, replace(corpus, texts=[]), data

    cfg, corpus, data = corpora.prepared(work, JOB_WAIT_S)
    per_step = cfg.batch_size * cfg.grad_accum * distributed.world_size()
    cfg, cap_notes = caps.bounded(cfg, max(1, math.ceil(len(data.train) / per_step)), device)
    for n in cap_notes:
        post.note(n)
    on_cpu = device != "cuda"
    resources.check(resources.model_shape(model), cfg.batch_size, cfg.block_size, device, cfg.from_scratch,
                    loaded=4 * params if on_cpu else 0, processes=distributed.world_size() if on_cpu else 1)
    return cfg, corpus, data


__all__ = ["prepare_model", "prepare_data"]
