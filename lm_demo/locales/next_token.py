"""Strings of the "Siguiente token" tab."""

ES = {
    "nt.tab": "Siguiente token",
    "nt.intro": "Escribe un comienzo y mira qué token cree el modelo que viene después, con qué probabilidad, y cómo cambia la distribución con la temperatura, top-k y top-p.",
    "nt.prompt": "Texto de entrada (prompt)",
    "nt.temperature": "Temperatura",
    "nt.temperature.info": "0 = siempre el más probable; <1 concentra la probabilidad; >1 la reparte.",
    "nt.top_k": "Top-k (0 = sin límite)",
    "nt.top_p": "Top-p (núcleo; 1 = sin límite)",
    "nt.top_n": "Tokens a mostrar",
    "nt.run": "Calcular",
    "nt.table": "Candidatos al siguiente token",
    "nt.chart": "Distribución: original frente a ajustada",
    "nt.tokens": "Cómo se divide el texto en tokens",
    "nt.examples": "Ejemplos",
    "nt.entropy": "**Entropía**: {raw:.2f} bits (original) → {warped:.2f} bits (ajustada). Tokens posibles tras el ajuste: {kept} de {vocab}. El texto tiene {n} tokens.",
    "nt.raw": "original",
    "nt.warped": "ajustada",
}

EN = {
    "nt.tab": "Next token",
    "nt.intro": "Type a beginning and see which token the model thinks comes next, how likely it is, and how temperature, top-k and top-p reshape the distribution.",
    "nt.prompt": "Input text (prompt)",
    "nt.temperature": "Temperature",
    "nt.temperature.info": "0 = always the most likely; <1 sharpens; >1 flattens.",
    "nt.top_k": "Top-k (0 = no limit)",
    "nt.top_p": "Top-p (nucleus; 1 = no limit)",
    "nt.top_n": "Tokens to show",
    "nt.run": "Compute",
    "nt.table": "Next-token candidates",
    "nt.chart": "Distribution: original vs adjusted",
    "nt.tokens": "How the text is split into tokens",
    "nt.examples": "Examples",
    "nt.entropy": "**Entropy**: {raw:.2f} bits (original) → {warped:.2f} bits (adjusted). Possible tokens after adjusting: {kept} of {vocab}. The text has {n} tokens.",
    "nt.raw": "original",
    "nt.warped": "adjusted",
}
