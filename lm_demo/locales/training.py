"""Strings of the "Entrenamiento" tab, its corpora, runner and checkpoints (prefix ``train.``)."""

ES = {
    # tab
    "train.tab": "Entrenamiento",
    "train.intro": (
        "Elige un **corpus** (o sube tu propio texto), el **modelo base** y pulsa **Empezar**: verás en directo "
        "cómo bajan la **pérdida** y la **perplejidad**, y muestras del modelo mientras aprende. Los ajustes se "
        "eligen solos según el tamaño del corpus (puedes cambiarlos en «Avanzado»). Al acabar (o al detenerlo) "
        "el modelo se guarda en `checkpoints/` y se usa enseguida en las otras pestañas; si algo corta el "
        "entrenamiento, se puede continuar desde el último punto de control."
    ),
    "train.disabled": (
        "🔒 El entrenamiento está desactivado en este servidor (variable `LM_DEMO_ALLOW_TRAINING=0`, "
        "habitual en un Space público). Puedes ver el progreso de otros entrenamientos, pero no iniciar uno."
    ),
    "train.corpus.section": "Opciones del corpus",
    "train.corpus.preset": "Corpus predefinido",
    "train.corpus.preset.info": "Poesía, Quijote, refranes y prosa vienen incluidos; los chistes necesitan el Hub o la carpeta de datos local.",
    "train.corpus.upload": "…o sube tu propio archivo (.txt, .csv, .tsv, .jsonl, .json, .parquet; máx. 50 MB y 10 MB de texto)",
    "train.corpus.column": "Columna de texto",
    "train.corpus.column.info": "Para .csv/.jsonl/.parquet; vacío = se adivina.",
    "train.corpus.txt_mode": "En un .txt, cada texto es…",
    "train.corpus.txt_mode.lines": "una línea",
    "train.corpus.txt_mode.blocks": "un bloque separado por líneas en blanco",
    "train.corpus.exclude": "Categorías excluidas (chistes)",
    "train.corpus.exclude.info": "«sexo» está excluida por defecto para la clase.",
    "train.corpus.cat.otros": "otros",
    "train.corpus.cat.familia": "familia",
    "train.corpus.cat.sexo": "sexo",
    "train.corpus.cat.animales": "animales",
    "train.corpus.cat.profesiones": "profesiones",
    "train.corpus.cat.regionales": "regionales",
    "train.corpus.cat.tematicos": "temáticos",
    "train.corpus.quijote_lines": "Líneas del Quijote (desde el principio)",
    "train.corpus.max_rows": "Máximo de textos (0 = todos)",
    "train.corpus.stats_btn": "Ver estadísticas del corpus",
    "train.corpus.stats": "Estadísticas",
    "train.corpus.hist": "Longitud de los textos",
    "train.corpus.summary": "**{label}** · origen: {source} (`{origin}`) · {rows:,} textos",
    "train.source.local": "carpeta de datos local",
    "train.source.cache": "caché de Hugging Face",
    "train.source.hub": "Hugging Face Hub",
    "train.source.file": "archivo subido",
    # presets
    "train.corpus.chistes": "Chistes",
    "train.corpus.poesia": "Poesía",
    "train.corpus.quijote": "Don Quijote",
    "train.corpus.amazon": "Descripciones de productos (Amazon)",
    "train.corpus.mezcla": "Mezcla poesía + prosa (semilla 000)",
    "train.corpus.refranes": "Refranes y citas",
    "train.corpus.prosa": "Prosa (Wikipedia traducida y frases web)",
    # model
    "train.model.section": "Modelo desde cero",
    "train.model.base": "Modelo base",
    "train.model.base.info": "Sin GPU se empieza por el modelo pequeño incluido: una demostración tarda minutos; "
                             "un GPT-2 de 124 M parámetros tarda unas 20 veces más en CPU.",
    "train.model.scratch": "Entrenar desde cero (semilla 003): un GPT-2 pequeño con pesos aleatorios",
    "train.model.scratch.info": "Usa el tokenizador del modelo base.",
    "train.model.layers": "Capas",
    "train.model.heads": "Cabezas de atención",
    "train.model.width": "Ancho (dimensión de los vectores)",
    # hyperparameters
    "train.hp.preset": "Receta",
    "train.hp.preset.info": "Un clic rellena los valores (y quita los ajustes automáticos); puedes cambiarlos después.",
    "train.hp.preset.auto": "Automática (según el corpus)",
    "train.hp.preset.seed000": "Semilla 000 (mezcla)",
    "train.hp.preset.seed001": "Semilla 001 (Quijote)",
    "train.hp.preset.seed002": "Semilla 002 (poesía)",
    "train.hp.preset.seed003": "Semilla 003 (desde cero)",
    "train.hp.preset.seed004": "Semilla 004 (chistes)",
    "train.hp.recipe": "Preparación de los datos",
    "train.hp.recipe.packed": "Empaquetado (recomendado)",
    "train.hp.recipe.padded": "Relleno a longitud fija (receta de las semillas, para comparar)",
    "train.hp.block_size": "Tamaño de bloque (tokens)",
    "train.hp.epochs": "Épocas",
    "train.hp.learning_rate": "Tasa de aprendizaje",
    "train.hp.batch_size": "Tamaño de lote",
    "train.hp.grad_accum": "Acumulación de gradiente",
    "train.hp.weight_decay": "Decaimiento de pesos",
    "train.hp.warmup_steps": "Pasos de calentamiento",
    "train.hp.eval_steps": "Evaluar cada N pasos",
    "train.hp.max_steps": "Máximo de pasos (0 = según épocas)",
    "train.hp.seed": "Semilla aleatoria",
    "train.hp.early_stopping_patience": "Parada temprana: evaluaciones sin mejora (0 = no)",
    "train.hp.eval_fraction": "Fracción de evaluación",
    "train.hp.max_eval_blocks": "Máximo de bloques de evaluación",
    "train.hp.logging_steps": "Registrar cada N pasos",
    "train.hp.sample_max_new_tokens": "Tokens de la muestra",
    "train.hp.n_layer": "Capas",
    "train.hp.n_head": "Cabezas de atención",
    "train.hp.n_embd": "Ancho",
    "train.hp.n_positions": "Contexto (tokens)",
    "train.hp.num_threads": "Hilos de CPU",
    "train.hp.sample_prompt": "Texto de inicio para las muestras",
    "train.hp.name": "Nombre del checkpoint (vacío = automático)",
    # run
    "train.start": "▶ Empezar",
    "train.history_csv": "Descargar historial de métricas (CSV)",
    "train.file.history": "entrenamiento-historial",
    "train.file.loss": "entrenamiento-perdida",
    "train.file.ppl": "entrenamiento-perplejidad",
    "train.file.stats": "corpus-estadisticas",
    "train.file.hist": "corpus-longitudes",
    "train.stop": "■ Detener",
    "train.log_scale": "Escala logarítmica",
    "train.plot.loss": "Pérdida",
    "train.plot.ppl": "Perplejidad",
    "train.plot.train_loss": "pérdida de entrenamiento",
    "train.plot.eval_loss": "pérdida de evaluación",
    "train.plot.ppl_eval": "perplejidad (evaluación)",
    "train.plot.step": "paso",
    "train.plot.empty": "Aún no hay datos: empieza un entrenamiento.",
    "train.samples": "Muestras del modelo a lo largo del entrenamiento",
    "train.samples.empty": "_En cada evaluación el modelo escribirá una muestra a partir del texto de inicio._",
    "train.samples.item": "**Paso {step}:** {text}",
    "train.status.idle": "Ningún entrenamiento en marcha.",
    "train.status.stage.corpus": "Cargando el corpus…",
    "train.status.stage.model": "Preparando el modelo…",
    "train.status.stage.data": "Empaquetando los textos…",
    "train.status.stage.train": "Entrenando…",
    "train.status.stage.save": "Guardando el checkpoint…",
    "train.status.running": (
        "⏳ **Entrenando** en **{device}** · paso **{step}/{total}** · época {epoch} · "
        "pérdida {loss} · {tps} tokens/s · quedan ~{eta}"
    ),
    "train.status.finished": "✅ **Terminado** tras {steps} pasos ({duration}). Pérdida de evaluación {loss} · perplejidad {ppl}.",
    "train.status.stopped": "⏹ **Detenido** tras {steps} pasos ({duration}). Pérdida de evaluación {loss} · perplejidad {ppl}.",
    "train.status.error": "❌ **Error:** {error}",
    "train.status.stopping": "Deteniendo al final del paso actual…",
    "train.status.other": "👀 Hay un entrenamiento en marcha iniciado desde otro navegador: ves su progreso en modo lectura.",
    "train.status.saved": "💾 Guardado como **`{name}`**: ya aparece en el selector de modelos de arriba.",
    "train.status.gpu_mem": " · memoria GPU {mb} MB",
    "train.status.kind_other": "Ahora mismo se está ejecutando: {kind}.",
    "train.use_model": "Usar el modelo entrenado en las otras pestañas",
    "train.stop.requested": "Se pidió detener el entrenamiento: termina al final del paso actual y se guarda.",
    "train.stop.none": "No hay ningún entrenamiento en marcha.",
    "train.stop.not_owner": "Este entrenamiento lo inició otro navegador: solo quien lo inició puede detenerlo.",
    "train.kind.train": "un entrenamiento",
    "train.kind.trials": "una comparación rápida de modelos",
    "train.eta.unknown": "—",
    # errors
    "train.err.busy": "Ya hay un trabajo en marcha ({kind}). Espera a que termine (su progreso se ve aquí) o detenlo.",
    "train.err.disabled": "El entrenamiento está desactivado en este servidor (LM_DEMO_ALLOW_TRAINING=0).",
    "train.err.memory.batch": (
        "Este entrenamiento necesitaría unos {need} de memoria (modelo y optimizador: {model}; activaciones con lote {batch} y bloque {block}: {acts}) y ahora hay {free} libres. "
        "Prueba con lote {fit_batch} y bloque {fit_block} (en «Avanzado»)."
    ),
    "train.err.memory.shape": (
        "Este entrenamiento necesitaría unos {need} de memoria (modelo y optimizador: {model}; activaciones con lote {batch} y bloque {block}: {acts}) y ahora hay {free} libres. "
        "Un modelo de {params} M de parámetros no cabe: prueba desde cero con {fit_layers} capas de anchura "
        "{fit_width}, lote {fit_batch} y bloque {fit_block}."
    ),
    "train.err.memory.model": (
        "Este entrenamiento necesitaría unos {need} de memoria (modelo y optimizador: {model}; activaciones con lote {batch} y bloque {block}: {acts}) y ahora hay {free} libres. "
        "El modelo ({params} M de parámetros) no cabe ni con lote 1: elige un modelo base más pequeño "
        "(por ejemplo gpt2-es-tiny)."
    ),
    "train.err.oom": (
        "Memoria insuficiente al entrenar. Prueba un tamaño de lote o de bloque más pequeño (y más "
        "acumulación de gradiente), o entrena en la CPU."
    ),
    "train.err.failed": "El entrenamiento falló ({detail}). La aplicación sigue funcionando; revisa los valores y prueba de nuevo.",
    "train.err.bad_recipe": "Preparación de datos desconocida: «{recipe}» (usa «packed» o «padded»).",
    "train.err.no_eos": "El tokenizador de «{name}» no tiene token de fin de texto: no se puede empaquetar.",
    "train.err.corpus_too_small": (
        "El corpus es demasiado pequeño: {tokens:,} tokens no llegan para dos bloques de {block}. "
        "Usa más textos o un tamaño de bloque menor."
    ),
    "train.err.no_job": "No hay ningún entrenamiento todavía.",
    # notes
    "train.note.width_rounded": "El ancho se ajustó a {width} para que sea múltiplo de las {heads} cabezas.",
    "train.note.early_stop": "Parada temprana: {n} evaluaciones seguidas sin mejorar la pérdida.",
    "train.note.best_restored": "Se conserva el mejor modelo (paso {step}), no el último.",
    "train.note.block_clamped": "El bloque se redujo a {value} tokens: el modelo no admite más de {max}.",
    "train.note.max_rows": "Se usan los primeros {n:,} textos de {total:,}.",
    "train.note.max_rows_read": "Se usan los primeros {n:,} textos del archivo (el resto no se lee).",
    "train.note.time_cap": (
        "⏱️ Se alcanzó el límite de tiempo de este servidor ({minutes} min) en el paso {step}: el entrenamiento se "
        "detiene y se guarda el modelo; se puede continuar desde «Entrenamientos interrumpidos»."
    ),
    "train.note.time_cap_unsaved": (
        "⏱️ Se alcanzó el límite de tiempo de este servidor ({minutes} min) en el paso {step}: el entrenamiento se "
        "detiene."
    ),
    "train.note.steps_cap": "En este servidor un entrenamiento da como mucho {n} pasos (se pedían {asked}).",
    "train.note.epochs_cap": "En este servidor un entrenamiento da como mucho {n} pasadas por el corpus.",
    "train.note.runs_pruned": (
        "Se descartaron los entrenamientos interrumpidos más antiguos ({names}): este servidor guarda como mucho {n} "
        "(cada uno ocupa disco con sus puntos de control)."
    ),
    "train.note.from_cache": "«{repo}» se leyó de la caché local de Hugging Face.",
    "train.note.hub_failed": "No se pudo descargar «{repo}» del Hub ({detail}).",
    "train.note.excluded": "Categorías excluidas: {cats} ({n} textos).",
    "train.note.poetry_standin": (
        "En lugar del Spanish Poetry Dataset (poemas modernos con derechos de autor, no redistribuible) se usan "
        "sonetos clásicos del corpus DISCO (CC BY 4.0, Ruiz Fabo et al. 2017), con las mismas columnas."
    ),
    "train.note.quijote_lines": "Se usan las primeras {n} líneas del Quijote ({paras} párrafos; la semilla 001 usaba unas 100).",
    "train.note.mix_standin": "Sin conexión: la prosa local (XQuAD y UD Spanish-GSD) sustituye a Wikipedia y MLSUM.",
    "train.note.truncated": "Receta con relleno: {n} tokens de textos largos se cortaron y no se entrenan.",
    "train.note.block_split": "Con tan pocos textos, el entrenamiento o la evaluación no llenaría un bloque de {block} tokens: se evalúa con bloques apartados de todo el corpus, no con textos enteros.",
    "train.note.block_split_eval": "Los {texts:,} textos apartados para evaluar suman {tokens:,} tokens, menos que un bloque de {block}: se evalúa con bloques apartados de todo el corpus, no con textos enteros.",
    # checkpoints
    "train.ckpt.bad_name": "El nombre «{name}» no sirve para un checkpoint: usa letras, números, «-», «_» o «.».",
    "train.ckpt.protected": "«{name}» es un modelo incluido en la aplicación y no se puede sobrescribir. Elige otro nombre.",
    "train.ckpt.write_failed": "No se pudo guardar el checkpoint «{name}» ({detail}). ¿Hay espacio en disco?",
    "train.ckpt.unknown": "No existe el checkpoint «{name}» en checkpoints/.",
    "train.ckpt.bad_metadata": "El archivo metadata.json de «{name}» está dañado.",
    # corpus errors
    "train.corpus.no_file": "No se encontró el archivo «{name}». Vuelve a subirlo.",
    "train.corpus.bad_type": "«{name}» no es un tipo de archivo admitido. Sube uno de estos: {types}.",
    "train.corpus.too_big": "«{name}» ocupa {mb} MB y el máximo es {max_mb} MB. Sube una parte del corpus.",
    "train.corpus.empty_file": "«{name}» está vacío.",
    "train.corpus.binary": "«{name}» no parece un archivo de texto (contiene datos binarios). Sube un .txt, .csv o .jsonl.",
    "train.corpus.not_utf8": (
        "«{name}» no está en UTF-8 (byte {pos}). Guárdalo como «UTF-8» desde tu editor u hoja de cálculo "
        "y súbelo de nuevo."
    ),
    "train.corpus.bad_format": "No se pudo leer «{name}» como {fmt}. Comprueba que el archivo es válido.",
    "train.corpus.no_column": "«{name}» no tiene la columna «{column}». Columnas disponibles: {columns}.",
    "train.corpus.no_text_column": "«{name}» no tiene ninguna columna de texto. Columnas: {columns}.",
    "train.corpus.bad_txt_mode": "Modo de lectura de .txt desconocido: «{mode}».",
    "train.corpus.no_texts": "«{name}» no contiene ningún texto no vacío.",
    "train.corpus.preset_empty": "El corpus «{name}» quedó vacío tras la limpieza.",
    "train.corpus.preset_unavailable": (
        "El corpus «{name}» no está disponible aquí: no viene incluido, no está en la carpeta de datos local ni "
        "en la caché, y no hay conexión con el Hub. Elige otro corpus o sube un archivo de texto propio "
        "(.txt, .csv, .jsonl…)."
    ),
    "train.corpus.unknown_preset": "Corpus desconocido: «{name}». Disponibles: {presets}.",
    "train.corpus.too_many_rows": (
        "«{name}» tiene más de {max} textos, el máximo que se prepara aquí. Pon un «Máximo de textos» "
        "(en «Avanzado» → «Opciones del corpus») o sube una parte del corpus."
    ),
    "train.corpus.too_much_text": (
        "«{name}» tiene más de {size} de texto, el máximo que se prepara aquí. Pon un «Máximo de textos» "
        "(en «Avanzado» → «Opciones del corpus») o sube una parte del corpus."
    ),
    "train.corpus.text_too_long": (
        "«{name}» tiene un texto de más de {size} seguidos (una sola línea o celda). Divide el texto en "
        "líneas o párrafos y vuelve a subirlo."
    ),
    "train.corpus.too_big_unpacked": "«{name}» descomprimido ocupa más de {size}, el máximo. Sube una parte del corpus.",
    "train.corpus.json_too_big": (
        "«{name}» es un JSON de más de {size}: guárdalo como JSONL (un objeto por línea) o sube una parte."
    ),
    "train.corpus.too_many_columns": "«{name}» tiene más de {max} columnas. Sube solo la columna de texto.",
    "train.corpus.busy": (
        "Se está preparando otro corpus (estadísticas, una subida o un entrenamiento). Inténtalo de nuevo en unos "
        "segundos."
    ),
    # stats
    "train.stats.rows_before": "Textos antes de limpiar",
    "train.stats.rows_after": "Textos después de limpiar",
    "train.stats.median_words": "Mediana de palabras por texto",
    "train.stats.median": "mediana",
    "train.stats.words": "Palabras",
    "train.stats.tokens": "Tokens",
    "train.stats.median_tokens": "Mediana de tokens por texto",
    "train.stats.name": "Dato",
    "train.stats.value": "Valor",
    "train.stats.words_axis": "palabras por texto",
    "train.stats.count_axis": "textos",
    # CLI
    "train.cli.result": "Pérdida de evaluación: {loss} · perplejidad: {ppl}",
    "train.cli.saved": "Checkpoint guardado en {path} (aparece en la aplicación como «{name}»).",
    "train.cli.story": "Historia de cinco frases a partir de «{prompt}»:",
    "train.cli.stopping": "\nDeteniendo al final del paso actual (Ctrl+C otra vez para abortar)…",
    # automatic settings, kept model, overfitting, resumable runs (issue 9)
    "train.source.bundled": "incluido en la aplicación",
    "train.corpus.unavailable": "{label} — no disponible aquí",
    "train.note.auto": (
        "Ajustes automáticos para {texts:,} textos (~{tokens:,} tokens): {steps} pasos, bloques de {block} tokens, "
        "lotes de {batch}, tasa de aprendizaje {lr}, {eval} % de los textos aparte para evaluar."
    ),
    "train.note.settings": (
        "Ajustes para {texts:,} textos (~{tokens:,} tokens): {steps} pasos, bloques de {block} tokens, lotes de {batch}, "
        "tasa de aprendizaje {lr}, {eval} % de los textos aparte para evaluar."
    ),
    "train.note.sample_fit": "La muestra se acorta a {n} tokens nuevos: el modelo solo admite {ctx} tokens de contexto.",
    "train.note.resumed": "Se continúa el entrenamiento interrumpido desde el paso {step} de {total}.",
    "train.note.kept_final": (
        "Se guarda el modelo **final** (paso {step}). El mejor según la evaluación fue el del paso {best_step}; "
        "para guardar ese, elige «el mejor según la evaluación» en Avanzado (en la terminal, `--keep best`)."
    ),
    "train.note.kept_final_best": "Se guarda el modelo **final** (paso {step}), que es también el mejor según la evaluación.",
    "train.note.kept_best": (
        "Se guarda el **mejor modelo según la evaluación** (paso {step}), no el final (paso {final_step})."
    ),
    "train.err.bad_keep": "Opción desconocida para el modelo guardado: «{keep}» (usa «final» o «best»).",
    "train.hp.keep": "Modelo que se guarda",
    "train.hp.keep.final": "el final (recomendado)",
    "train.hp.keep.best": "el mejor según la evaluación",
    "train.hp.keep.info": "Con pocos textos, el «mejor» puede ser el modelo sin cambios del paso 0.",
    "train.hp.auto": "Ajustes automáticos según el tamaño del corpus",
    "train.hp.auto.info": "Pasos, bloque, lote, tasa de aprendizaje y evaluación se eligen al cargar el corpus. "
                          "Desmárcalo para usar los valores de abajo.",
    "train.hp.save_every_steps": "Guardar un punto de control cada N pasos (0 = automático)",
    "train.hp.save_every_minutes": "Guardar un punto de control cada N minutos (0 = no)",
    "train.advanced": "Avanzado: hiperparámetros, recetas, modelo desde cero",
    "train.summary.auto": "⚙️ Ajustes: **automáticos según el corpus** · {recipe} · se guarda {keep} · {scratch}",
    "train.summary.manual": (
        "⚙️ Ajustes: {steps} pasos · {epochs} épocas · tasa {lr} · lote {batch} · bloque {block} · "
        "evaluar cada {eval} · {recipe} · se guarda {keep} · {scratch}"
    ),
    "train.summary.finetune": "ajuste del modelo base",
    "train.summary.scratch": "desde cero ({layers} capas, ancho {width})",
    "train.summary.packed": "empaquetado",
    "train.summary.padded": "relleno",
    "train.summary.keep.final": "el modelo final",
    "train.summary.keep.best": "el mejor en evaluación",
    "train.overfit": (
        "📈 **Sobreajuste.** Desde el paso {best_step}, la pérdida de **evaluación** (textos que el modelo no ve "
        "al entrenar) sube mientras la de **entrenamiento** sigue bajando: el modelo está **memorizando** sus "
        "textos en lugar de aprender a escribir como ellos. Míralo en el gráfico de pérdida: las dos líneas se "
        "separan después de la marca «mínimo de evaluación». Con un corpus pequeño es normal; para evitarlo, "
        "usa menos pasos o más textos, o guarda «el mejor según la evaluación» (Avanzado)."
    ),
    "train.plot.eval_min": "mínimo de evaluación",
    "train.runs.title": "### ⏯ Entrenamientos interrumpidos",
    "train.runs.intro": (
        "Estos entrenamientos se cortaron (un corte de luz, un reinicio, o los detuviste) y guardaron un punto "
        "de control. **Continuar** sigue desde ese paso; **Usar tal cual** guarda ese modelo para usarlo ya."
    ),
    "train.runs.item": "**{name}** · {corpus} · paso {step} de {total} · {when}{status}",
    "train.runs.status.stopped": " · detenido",
    "train.runs.status.error": " · terminó con un error",
    "train.runs.state.interrupted": "interrumpido",
    "train.runs.state.stopped": "detenido",
    "train.runs.state.error": "terminó con un error",
    "train.runs.state.running": "en marcha",
    "train.runs.no_checkpoint": " · sin punto de control aún (empezaría de nuevo)",
    "train.runs.saved_as": " · ya guardado como «{name}»",
    "train.runs.pick": "Entrenamiento",
    "train.runs.continue": "⏯ Continuar",
    "train.runs.use": "Usar tal cual",
    "train.runs.discard": "🗑 Descartar",
    "train.runs.exported": "Guardado como «{name}»: ya aparece en los selectores de modelos.",
    "train.runs.discarded": "Se descartó «{name}».",
    "train.runs.not_owner": (
        "En este Space solo el navegador que empezó «{name}» (o quien administra el Space) puede continuarlo, "
        "guardarlo o descartarlo."
    ),
    "train.runs.none": "No hay entrenamientos interrumpidos.",
    "train.runs.ago.now": "hace un momento",
    "train.runs.ago.min": "hace {n} min",
    "train.runs.ago.h": "hace {n} h",
    "train.runs.ago.d": "hace {n} días",
    "train.run.unknown": "No existe el entrenamiento interrumpido «{name}».",
    "train.run.damaged": "Los datos del entrenamiento «{name}» están dañados: descártalo.",
    "train.run.busy": "El entrenamiento «{name}» sigue en marcha en otro proceso.",
    "train.run.no_checkpoint": "El entrenamiento «{name}» aún no había guardado ningún punto de control: usa «Continuar».",
}

EN = {
    "train.tab": "Training",
    "train.intro": (
        "Pick a **corpus** (or upload your own text), the **base model** and press **Start**: watch the **loss** "
        "and **perplexity** fall live, with samples of the model as it learns. Settings are chosen from the "
        "corpus size (change them under “Advanced”). When it ends (or is stopped) the model is saved in "
        "`checkpoints/` and is usable at once in the other tabs; if something cuts the run short, it can "
        "continue from its last checkpoint."
    ),
    "train.disabled": "🔒 Training is disabled on this server (`LM_DEMO_ALLOW_TRAINING=0`).",
    "train.corpus.section": "Corpus options",
    "train.corpus.preset": "Preset corpus",
    "train.corpus.preset.info": "Poetry, Quijote, sayings and prose are bundled; the jokes need the Hub or the local data folder.",
    "train.corpus.upload": "…or upload your own file (.txt, .csv, .tsv, .jsonl, .json, .parquet; max 50 MB and 10 MB of text)",
    "train.corpus.column": "Text column",
    "train.corpus.column.info": "For .csv/.jsonl/.parquet; empty = guessed.",
    "train.corpus.txt_mode": "In a .txt, each text is…",
    "train.corpus.txt_mode.lines": "one line",
    "train.corpus.txt_mode.blocks": "a block separated by blank lines",
    "train.corpus.exclude": "Excluded categories (jokes)",
    "train.corpus.exclude.info": "“sex” (sexo) is excluded by default for a class.",
    "train.corpus.cat.otros": "other",
    "train.corpus.cat.familia": "family",
    "train.corpus.cat.sexo": "sex",
    "train.corpus.cat.animales": "animals",
    "train.corpus.cat.profesiones": "professions",
    "train.corpus.cat.regionales": "regional",
    "train.corpus.cat.tematicos": "themed",
    "train.corpus.quijote_lines": "Lines of Don Quijote (from the start)",
    "train.corpus.max_rows": "Maximum texts (0 = all)",
    "train.corpus.stats_btn": "Show corpus statistics",
    "train.corpus.stats": "Statistics",
    "train.corpus.hist": "Text lengths",
    "train.corpus.summary": "**{label}** · source: {source} (`{origin}`) · {rows:,} texts",
    "train.source.local": "local data folder",
    "train.source.cache": "Hugging Face cache",
    "train.source.hub": "Hugging Face Hub",
    "train.source.file": "uploaded file",
    "train.corpus.chistes": "Jokes",
    "train.corpus.poesia": "Poetry",
    "train.corpus.quijote": "Don Quijote",
    "train.corpus.amazon": "Product descriptions (Amazon)",
    "train.corpus.mezcla": "Poetry + prose mix (seed 000)",
    "train.corpus.refranes": "Sayings and quotes",
    "train.corpus.prosa": "Prose (translated Wikipedia and web sentences)",
    "train.model.section": "Model from scratch",
    "train.model.base": "Base model",
    "train.model.base.info": "Without a GPU it starts from the small bundled model: a demo takes minutes; "
                             "a 124 M-parameter GPT-2 takes about 20 times longer on a CPU.",
    "train.model.scratch": "Train from scratch (seed 003): a small, randomly initialised GPT-2",
    "train.model.scratch.info": "Uses the base model's tokenizer.",
    "train.model.layers": "Layers",
    "train.model.heads": "Attention heads",
    "train.model.width": "Width (vector size)",
    "train.hp.preset": "Recipe",
    "train.hp.preset.info": "One click fills the values (and turns the automatic settings off); change them afterwards if you like.",
    "train.hp.preset.auto": "Automatic (from the corpus)",
    "train.hp.preset.seed000": "Seed 000 (mix)",
    "train.hp.preset.seed001": "Seed 001 (Quijote)",
    "train.hp.preset.seed002": "Seed 002 (poetry)",
    "train.hp.preset.seed003": "Seed 003 (from scratch)",
    "train.hp.preset.seed004": "Seed 004 (jokes)",
    "train.hp.recipe": "Data preparation",
    "train.hp.recipe.packed": "Packed (recommended)",
    "train.hp.recipe.padded": "Padded to a fixed length (the seeds' recipe, for comparison)",
    "train.hp.block_size": "Block size (tokens)",
    "train.hp.epochs": "Epochs",
    "train.hp.learning_rate": "Learning rate",
    "train.hp.batch_size": "Batch size",
    "train.hp.grad_accum": "Gradient accumulation",
    "train.hp.weight_decay": "Weight decay",
    "train.hp.warmup_steps": "Warm-up steps",
    "train.hp.eval_steps": "Evaluate every N steps",
    "train.hp.max_steps": "Max steps (0 = by epochs)",
    "train.hp.seed": "Random seed",
    "train.hp.early_stopping_patience": "Early stopping: evaluations without improvement (0 = off)",
    "train.hp.eval_fraction": "Eval fraction",
    "train.hp.max_eval_blocks": "Max eval blocks",
    "train.hp.logging_steps": "Log every N steps",
    "train.hp.sample_max_new_tokens": "Sample tokens",
    "train.hp.n_layer": "Layers",
    "train.hp.n_head": "Attention heads",
    "train.hp.n_embd": "Width",
    "train.hp.n_positions": "Context (tokens)",
    "train.hp.num_threads": "CPU threads",
    "train.hp.sample_prompt": "Prompt for the samples",
    "train.hp.name": "Checkpoint name (empty = automatic)",
    "train.start": "▶ Start",
    "train.history_csv": "Download metric history (CSV)",
    "train.file.history": "training-history",
    "train.file.loss": "training-loss",
    "train.file.ppl": "training-perplexity",
    "train.file.stats": "corpus-stats",
    "train.file.hist": "corpus-lengths",
    "train.stop": "■ Stop",
    "train.log_scale": "Log scale",
    "train.plot.loss": "Loss",
    "train.plot.ppl": "Perplexity",
    "train.plot.train_loss": "training loss",
    "train.plot.eval_loss": "eval loss",
    "train.plot.ppl_eval": "perplexity (eval)",
    "train.plot.step": "step",
    "train.plot.empty": "No data yet: start a training run.",
    "train.samples": "Model samples during training",
    "train.samples.empty": "_At each evaluation the model writes a sample from the prompt._",
    "train.samples.item": "**Step {step}:** {text}",
    "train.status.idle": "No training running.",
    "train.status.stage.corpus": "Loading the corpus…",
    "train.status.stage.model": "Preparing the model…",
    "train.status.stage.data": "Packing the texts…",
    "train.status.stage.train": "Training…",
    "train.status.stage.save": "Saving the checkpoint…",
    "train.status.running": (
        "⏳ **Training** on **{device}** · step **{step}/{total}** · epoch {epoch} · loss {loss} · "
        "{tps} tokens/s · ~{eta} left"
    ),
    "train.status.finished": "✅ **Finished** after {steps} steps ({duration}). Eval loss {loss} · perplexity {ppl}.",
    "train.status.stopped": "⏹ **Stopped** after {steps} steps ({duration}). Eval loss {loss} · perplexity {ppl}.",
    "train.status.error": "❌ **Error:** {error}",
    "train.status.stopping": "Stopping at the end of the current step…",
    "train.status.other": "👀 A training run started from another browser is running: you see its progress read-only.",
    "train.status.saved": "💾 Saved as **`{name}`**: it is already in the model picker above.",
    "train.status.gpu_mem": " · GPU memory {mb} MB",
    "train.status.kind_other": "Running right now: {kind}.",
    "train.use_model": "Use the trained model in the other tabs",
    "train.stop.requested": "Stop requested: training ends after the current step and is saved.",
    "train.stop.none": "No training is running.",
    "train.stop.not_owner": "This run was started from another browser: only that browser can stop it.",
    "train.kind.train": "a training run",
    "train.kind.trials": "a quick model comparison",
    "train.eta.unknown": "—",
    "train.err.busy": "A job is already running ({kind}). Wait until it ends (its progress shows here) or stop it.",
    "train.err.disabled": "Training is disabled on this server (LM_DEMO_ALLOW_TRAINING=0).",
    "train.err.memory.batch": (
        "This training run would need about {need} of memory (model and optimiser: {model}; activations with batch {batch} and block {block}: {acts}) and {free} is free now. "
        "Try batch {fit_batch} and block {fit_block} (under “Advanced”)."
    ),
    "train.err.memory.shape": (
        "This training run would need about {need} of memory (model and optimiser: {model}; activations with batch {batch} and block {block}: {acts}) and {free} is free now. "
        "A model of {params} M parameters does not fit: try from scratch with {fit_layers} layers of width "
        "{fit_width}, batch {fit_batch} and block {fit_block}."
    ),
    "train.err.memory.model": (
        "This training run would need about {need} of memory (model and optimiser: {model}; activations with batch {batch} and block {block}: {acts}) and {free} is free now. "
        "The model ({params} M parameters) does not fit even with batch 1: pick a smaller base model "
        "(for example gpt2-es-tiny)."
    ),
    "train.err.oom": "Out of memory while training. Try a smaller batch or block size (and more gradient accumulation), or train on the CPU.",
    "train.err.failed": "Training failed ({detail}). The app keeps running; check the values and try again.",
    "train.err.bad_recipe": "Unknown data preparation “{recipe}” (use “packed” or “padded”).",
    "train.err.no_eos": "The tokenizer of “{name}” has no end-of-text token: cannot pack.",
    "train.err.corpus_too_small": "The corpus is too small: {tokens:,} tokens do not make two blocks of {block}. Use more texts or a smaller block size.",
    "train.err.no_job": "No training run yet.",
    "train.note.width_rounded": "Width set to {width} to be a multiple of the {heads} heads.",
    "train.note.early_stop": "Early stopping: {n} evaluations in a row without a lower loss.",
    "train.note.best_restored": "The best model (step {step}) is kept, not the last one.",
    "train.note.block_clamped": "Block reduced to {value} tokens: the model takes at most {max}.",
    "train.note.max_rows": "Using the first {n:,} of {total:,} texts.",
    "train.note.max_rows_read": "Using the first {n:,} texts of the file (the rest is not read).",
    "train.note.time_cap": (
        "⏱️ This server's time limit ({minutes} min) was reached at step {step}: training stops and the model is "
        "saved; it can be continued from “Interrupted training runs”."
    ),
    "train.note.time_cap_unsaved": "⏱️ This server's time limit ({minutes} min) was reached at step {step}: training stops.",
    "train.note.steps_cap": "On this server a training run takes at most {n} steps ({asked} were asked for).",
    "train.note.epochs_cap": "On this server a training run makes at most {n} passes over the corpus.",
    "train.note.runs_pruned": (
        "The oldest interrupted runs were discarded ({names}): this server keeps at most {n} "
        "(each takes disk space with its checkpoints)."
    ),
    "train.note.from_cache": "“{repo}” was read from the local Hugging Face cache.",
    "train.note.hub_failed": "Could not download “{repo}” from the Hub ({detail}).",
    "train.note.excluded": "Excluded categories: {cats} ({n} texts).",
    "train.note.poetry_standin": "Instead of the Spanish Poetry Dataset (modern, copyrighted poems, not redistributable), classic sonnets of the DISCO corpus (CC BY 4.0, Ruiz Fabo et al. 2017) are used, with the same columns.",
    "train.note.quijote_lines": "Using the first {n} lines of Don Quijote ({paras} paragraphs; seed 001 used about 100).",
    "train.note.mix_standin": "Offline: local prose (XQuAD, UD Spanish-GSD) stands in for Wikipedia and MLSUM.",
    "train.note.truncated": "Padded recipe: {n} tokens of long texts were cut off and are not trained on.",
    "train.note.block_split": "With so few texts, training or evaluation would not fill one block of {block} tokens: evaluation uses blocks held out from the whole corpus, not whole texts.",
    "train.note.block_split_eval": "The {texts:,} texts held out for evaluation add up to {tokens:,} tokens, less than one block of {block}: evaluation uses blocks held out from the whole corpus, not whole texts.",
    "train.ckpt.bad_name": "“{name}” is not a usable checkpoint name: use letters, digits, “-”, “_” or “.”.",
    "train.ckpt.protected": "“{name}” is a model bundled with the app and cannot be overwritten. Pick another name.",
    "train.ckpt.write_failed": "Could not save checkpoint “{name}” ({detail}). Is there disk space?",
    "train.ckpt.unknown": "There is no checkpoint “{name}” in checkpoints/.",
    "train.ckpt.bad_metadata": "The metadata.json of “{name}” is damaged.",
    "train.corpus.no_file": "File “{name}” was not found. Upload it again.",
    "train.corpus.bad_type": "“{name}” is not a supported file type. Upload one of: {types}.",
    "train.corpus.too_big": "“{name}” is {mb} MB and the maximum is {max_mb} MB. Upload part of the corpus.",
    "train.corpus.empty_file": "“{name}” is empty.",
    "train.corpus.binary": "“{name}” does not look like a text file (it holds binary data). Upload a .txt, .csv or .jsonl.",
    "train.corpus.not_utf8": "“{name}” is not UTF-8 (byte {pos}). Save it as “UTF-8” from your editor or spreadsheet and upload it again.",
    "train.corpus.bad_format": "Could not read “{name}” as {fmt}. Check that the file is valid.",
    "train.corpus.no_column": "“{name}” has no column “{column}”. Available columns: {columns}.",
    "train.corpus.no_text_column": "“{name}” has no text column. Columns: {columns}.",
    "train.corpus.bad_txt_mode": "Unknown .txt reading mode “{mode}”.",
    "train.corpus.no_texts": "“{name}” holds no non-empty text.",
    "train.corpus.preset_empty": "Corpus “{name}” is empty after cleaning.",
    "train.corpus.preset_unavailable": "Corpus “{name}” is not available here: it is not bundled, not in the local data folder nor in the cache, and the Hub cannot be reached. Pick another corpus or upload a text file of your own (.txt, .csv, .jsonl…).",
    "train.corpus.unknown_preset": "Unknown corpus “{name}”. Available: {presets}.",
    "train.corpus.too_many_rows": (
        "“{name}” has more than {max} texts, the most prepared here. Set a “Maximum texts” (under “Advanced” → "
        "“Corpus options”) or upload part of the corpus."
    ),
    "train.corpus.too_much_text": (
        "“{name}” holds more than {size} of text, the most prepared here. Set a “Maximum texts” (under "
        "“Advanced” → “Corpus options”) or upload part of the corpus."
    ),
    "train.corpus.text_too_long": (
        "“{name}” holds a text of more than {size} in one piece (a single line or cell). Split it into lines or "
        "paragraphs and upload it again."
    ),
    "train.corpus.too_big_unpacked": "“{name}” is more than {size} once decompressed, the maximum. Upload part of the corpus.",
    "train.corpus.json_too_big": "“{name}” is a JSON file of more than {size}: save it as JSONL (one object per line) or upload part of it.",
    "train.corpus.too_many_columns": "“{name}” has more than {max} columns. Upload only the text column.",
    "train.corpus.busy": "Another corpus is being prepared (statistics, an upload or a training run). Try again in a few seconds.",
    "train.stats.rows_before": "Texts before cleaning",
    "train.stats.rows_after": "Texts after cleaning",
    "train.stats.median_words": "Median words per text",
    "train.stats.median": "median",
    "train.stats.words": "Words",
    "train.stats.tokens": "Tokens",
    "train.stats.median_tokens": "Median tokens per text",
    "train.stats.name": "Statistic",
    "train.stats.value": "Value",
    "train.stats.words_axis": "words per text",
    "train.stats.count_axis": "texts",
    "train.cli.result": "Eval loss: {loss} · perplexity: {ppl}",
    "train.cli.saved": "Checkpoint saved in {path} (listed in the app as “{name}”).",
    "train.cli.story": "A five-sentence story from “{prompt}”:",
    "train.cli.stopping": "\nStopping at the end of the current step (Ctrl+C again to abort)…",
    "train.source.bundled": "bundled with the app",
    "train.corpus.unavailable": "{label} — not available here",
    "train.note.auto": (
        "Automatic settings for {texts:,} texts (~{tokens:,} tokens): {steps} steps, {block}-token blocks, "
        "batches of {batch}, learning rate {lr}, {eval} % of the texts held out for evaluation."
    ),
    "train.note.settings": (
        "Settings for {texts:,} texts (~{tokens:,} tokens): {steps} steps, {block}-token blocks, batches of {batch}, "
        "learning rate {lr}, {eval} % of the texts held out for evaluation."
    ),
    "train.note.sample_fit": "The sample is cut to {n} new tokens: the model takes only {ctx} tokens of context.",
    "train.note.resumed": "Continuing the interrupted run from step {step} of {total}.",
    "train.note.kept_final": (
        "The **final** model is saved (step {step}). The best by evaluation was at step {best_step}; to save "
        "that one, pick “the best by evaluation” under Advanced (in a terminal, `--keep best`)."
    ),
    "train.note.kept_final_best": "The **final** model is saved (step {step}); it is also the best by evaluation.",
    "train.note.kept_best": "The **best model by evaluation** is saved (step {step}), not the final one (step {final_step}).",
    "train.err.bad_keep": "Unknown choice for the saved model: “{keep}” (use “final” or “best”).",
    "train.hp.keep": "Model saved",
    "train.hp.keep.final": "the final one (recommended)",
    "train.hp.keep.best": "the best by evaluation",
    "train.hp.keep.info": "With few texts, the “best” may be the unchanged model of step 0.",
    "train.hp.auto": "Automatic settings from the corpus size",
    "train.hp.auto.info": "Steps, block, batch, learning rate and evaluation are chosen when the corpus loads. "
                          "Untick to use the values below.",
    "train.hp.save_every_steps": "Save a checkpoint every N steps (0 = automatic)",
    "train.hp.save_every_minutes": "Save a checkpoint every N minutes (0 = never)",
    "train.advanced": "Advanced: hyperparameters, recipes, model from scratch",
    "train.summary.auto": "⚙️ Settings: **automatic from the corpus** · {recipe} · saves {keep} · {scratch}",
    "train.summary.manual": (
        "⚙️ Settings: {steps} steps · {epochs} epochs · lr {lr} · batch {batch} · block {block} · "
        "evaluate every {eval} · {recipe} · saves {keep} · {scratch}"
    ),
    "train.summary.finetune": "fine-tuning the base model",
    "train.summary.scratch": "from scratch ({layers} layers, width {width})",
    "train.summary.packed": "packed",
    "train.summary.padded": "padded",
    "train.summary.keep.final": "the final model",
    "train.summary.keep.best": "the best by evaluation",
    "train.overfit": (
        "📈 **Overfitting.** Since step {best_step} the **evaluation** loss (texts the model does not train on) "
        "rises while the **training** loss keeps falling: the model is **memorising** its texts instead of "
        "learning to write like them. See it in the loss plot: the two lines part after the “evaluation "
        "minimum” mark. With a small corpus this is normal; to avoid it, train fewer steps or on more texts, "
        "or save “the best by evaluation” (Advanced)."
    ),
    "train.plot.eval_min": "evaluation minimum",
    "train.runs.title": "### ⏯ Interrupted training runs",
    "train.runs.intro": (
        "These runs were cut short (a power cut, a restart, or you stopped them) and saved a checkpoint. "
        "**Continue** goes on from that step; **Use as it is** saves that model to use it now."
    ),
    "train.runs.item": "**{name}** · {corpus} · step {step} of {total} · {when}{status}",
    "train.runs.status.stopped": " · stopped",
    "train.runs.status.error": " · ended with an error",
    "train.runs.state.interrupted": "interrupted",
    "train.runs.state.stopped": "stopped",
    "train.runs.state.error": "ended with an error",
    "train.runs.state.running": "running",
    "train.runs.no_checkpoint": " · no checkpoint yet (it would start again)",
    "train.runs.saved_as": " · already saved as “{name}”",
    "train.runs.pick": "Training run",
    "train.runs.continue": "⏯ Continue",
    "train.runs.use": "Use as it is",
    "train.runs.discard": "🗑 Discard",
    "train.runs.exported": "Saved as “{name}”: it is in the model pickers now.",
    "train.runs.discarded": "“{name}” was discarded.",
    "train.runs.not_owner": (
        "On this Space only the browser that started “{name}” (or the Space's operator) may continue, save or "
        "discard it."
    ),
    "train.runs.none": "No interrupted training runs.",
    "train.runs.ago.now": "a moment ago",
    "train.runs.ago.min": "{n} min ago",
    "train.runs.ago.h": "{n} h ago",
    "train.runs.ago.d": "{n} days ago",
    "train.run.unknown": "There is no interrupted run “{name}”.",
    "train.run.damaged": "The data of run “{name}” is damaged: discard it.",
    "train.run.busy": "Run “{name}” is still running in another process.",
    "train.run.no_checkpoint": "Run “{name}” had not saved a checkpoint yet: use “Continue”.",
}
