"""variants.jsonl = the hand-read candidates of variants_draft.jsonl (the ones that on reading did not
make a clean test case dropped, see DROP) plus the paraphrases and wrong-measure cases written by
hand (MANUAL). Labels of the kept candidates were checked one by one against the cited passage."""

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent

# dropped on reading: degenerate or ambiguous constructions
DROP = {
    "V-corrupt-wrong_measure-08": "swap gives '45- tot 45-jarigen'",
    "V-corrupt-wrong_measure-09": "swap gives 'mbo-45 diploma', nonsense",
    "V-corrupt-wrong_measure-16": "'arbeidsparticipatie van 67-plussers steeg' is nearly what the passage says (werkende 67-plussers verdubbelde): ambiguous",
    "V-corrupt-wrong_measure-23": "changes a page reference, not a figure",
    "V-corrupt-wrong_measure-24": "'potentieel voor groei bij 67-plussers' is close to 'ná deze leeftijd nog doorwerkt toenemen': ambiguous",
    "V-corrupt-wrong_measure-26": "nonsense ratio '2 op de 10 ... beroepsniveau 6'",
    "V-corrupt-wrong_measure-37": "changes a year abbreviation ('26)",
    "V-corrupt-invented_forecast-05": "forecast tacked onto a non-measure sentence reads as nonsense",
    "V-corrupt-invented_forecast-07": "forecast tacked onto a definition fragment",
    "V-corrupt-invented_forecast-12": "forecast tacked onto a description of a toolbox",
    "V-corrupt-invented_forecast-13": "forecast tacked onto a description of the report",
    "V-corrupt-invented_forecast-24": "forecast tacked onto a definition (NEET)",
    "V-corrupt-invented_forecast-27": "forecast tacked onto 'De EU stelt daar geen heffingen tegenover'",
    "V-corrupt-invented_forecast-28": "forecast tacked onto 'hebben een handelsakkoord gesloten'",
}

# (qid, cited, origin, sentence, supported, note) — written by hand after reading the passage
MANUAL = [
    (
        "D002",
        [2],
        "paraphrase",
        "In 2024 waren er in Groningen 18.000 werklozen, 13.000 semi-werklozen en 25.000 onderbenutte deeltijdwerkers.",
        True,
        "",
    ),
    (
        "D002",
        [1],
        "paraphrase",
        "Het onbenut arbeidspotentieel is gedaald van 101 duizend in 2015 tot 56 duizend in 2024.",
        True,
        "",
    ),
    (
        "D002",
        [1],
        "paraphrase",
        "Het aandeel onbenut arbeidspotentieel onder 15- tot 75-jarigen ging van 18,0 procent in 2015 naar 9,8 procent in 2024, bijna een halvering.",
        True,
        "",
    ),
    (
        "D002",
        [3],
        "paraphrase",
        "Met 71,4 procent heeft het aandeel werkenden in Groningen een recordhoogte bereikt.",
        True,
        "",
    ),
    (
        "D003",
        [1],
        "paraphrase",
        "Regio's in Noord-Brabant, Zeeland, Limburg en Overijssel zijn volgens RaboResearch kwetsbaarder voor de economische gevolgen van de importheffingen.",
        True,
        "",
    ),
    (
        "D003",
        [1],
        "paraphrase",
        "Groningen is met 3,2 procent van het provinciaal bbp een van de provincies die weinig afhankelijk zijn van export naar de VS.",
        True,
        "",
    ),
    (
        "D004",
        [1],
        "paraphrase",
        "Landelijk zijn er nu al vijftien kwartalen achter elkaar meer vacatures dan werklozen.",
        True,
        "",
    ),
    (
        "D004",
        [1],
        "paraphrase",
        "In de COEN van juli 2025 noemt 37 procent van de werkgevers in de provincie Groningen personeelstekort een belemmering, tegen 36 procent landelijk.",
        True,
        "",
    ),
    (
        "D004",
        [2],
        "paraphrase",
        "Van de werkzame beroepsbevolking doet 28 procent aan LLO, vooral via niet-formeel onderwijs.",
        True,
        "",
    ),
    (
        "D005",
        [1],
        "paraphrase",
        "Het defensiebudget gaat de komende 10 jaar naar 5 procent van het bbp, waarvan 3,5 procent direct voor defensie en 1,5 procent voor bredere weerbaarheid.",
        True,
        "",
    ),
    (
        "D005",
        [1],
        "paraphrase",
        "Defensie wil in 2030 een personeelsomvang van 100 duizend fte hebben; in 2024 waren er ruim 74.300 mensen in dienst.",
        True,
        "",
    ),
    (
        "D006",
        [2],
        "paraphrase",
        "Volgens het WEF zal tussen 2025 en 2030 bijna 40 procent van de vaardigheden van werknemers verouderd zijn.",
        True,
        "",
    ),
    (
        "D006",
        [3],
        "paraphrase",
        "Eind juni 2025 hadden in Groningen ongeveer 7200 mensen een WW-uitkering, van wie de grootste groep (bijna 1400) een bedrijfseconomisch of administratief beroep heeft.",
        True,
        "",
    ),
    (
        "D006",
        [2],
        "paraphrase",
        "In Groningen zochten eind juni 2025 850 mensen met een WW-uitkering werk in een economisch-administratief beroep met minder complexe taken.",
        True,
        "",
    ),
    (
        "V119",
        [2],
        "paraphrase",
        "Tussen 2024 en 2027 groeit het aantal werknemersbanen in Groningen met zo'n 9700 (+2,7 procent).",
        True,
        "",
    ),
    (
        "V119",
        [2],
        "paraphrase",
        "Naar verwachting telt Groningen eind 2027 in totaal 363,4 duizend werknemersbanen.",
        True,
        "",
    ),
    ("V107", [2], "paraphrase", "Eind tweede kwartaal 2025 stonden er in Groningen 12500 vacatures open.", True, ""),
    (
        "D007",
        [1],
        "paraphrase",
        "Met 12.500 in het tweede kwartaal van 2025 ligt het aantal vacatures 59 procent boven het niveau van 2019, maar 7 procent onder dat van 2022.",
        True,
        "",
    ),
    (
        "D021",
        [2],
        "paraphrase",
        "De grootste sector in de regio is zorg & welzijn, met ruim 23 procent van alle werknemersbanen.",
        True,
        "",
    ),
    (
        "V113",
        [1],
        "paraphrase",
        "De netto arbeidsparticipatie in Groningen nam toe van 64,2 procent in 2015 tot 71,4 procent in 2024.",
        True,
        "",
    ),
    (
        "V113",
        [1],
        "paraphrase",
        "Van de 571 duizend inwoners van Groningen tussen 15 en 75 jaar werkt ruim 7 op de 10.",
        True,
        "",
    ),
    (
        "D005",
        [1],
        "corrupt:wrong_measure",
        "In 2024 waren ruim 100.000 mensen in dienst bij defensie.",
        False,
        "100.000 fte is the goal for 2030; in 2024 it was ruim 74.300",
    ),
    (
        "D005",
        [1],
        "corrupt:wrong_measure",
        "Daarvan mag 1,5% direct worden besteed aan defensie en 3,5% aan bredere weerbaarheid.",
        False,
        "3,5% is for defensie directly and 1,5% for bredere weerbaarheid; swapped",
    ),
    (
        "D004",
        [1],
        "corrupt:wrong_measure",
        "In de COEN van juli 2025 noemt 36% van de werkgevers in de provincie Groningen personeelstekort een belemmering.",
        False,
        "36% is the national average; Groningen is 37%",
    ),
    (
        "D006",
        [3],
        "corrupt:wrong_measure",
        "Eind juni 2025 hadden bijna 7.200 mensen in Groningen een WW-uitkering en een bedrijfseconomisch of administratief beroep.",
        False,
        "7.200 is all WW'ers; the administrative group is bijna 1.400",
    ),
    (
        "D006",
        [2, 3],
        "corrupt:wrong_measure",
        "Eind juni 2025 zoeken 1.400 mensen met een WW-uitkering in Groningen werk in een economisch-administratief beroep met minder complexe taken.",
        False,
        "the less-complex administrative group is 850; 1.400 is the whole bedrijfseconomisch/administratief group",
    ),
    (
        "D002",
        [1],
        "corrupt:wrong_measure",
        "Het aandeel onbenut arbeidspotentieel in de bevolking van 15 tot 75 jaar daalde van 18,0% in 2015 naar 9,8% in 2024, en het aantal van 101.000 naar 18.000.",
        False,
        "the number fell to 56.000 in 2024; 18.000 does not stand in this passage (18,0% is the 2015 share)",
    ),
]


def main() -> None:
    draft = [json.loads(line) for line in (HERE / "variants_draft.jsonl").open(encoding="utf-8")]
    out = [v for v in draft if v["id"] not in DROP]
    counts: dict = {}
    for qid, cited, origin, sentence, supported, note in MANUAL:
        counts[origin] = counts.get(origin, 0) + 1
        out.append(
            {
                "id": f"H-{origin.replace(':', '-')}-{counts[origin]:02d}",
                "qid": qid,
                "origin": origin,
                "sentence": sentence,
                "cited": cited,
                "supported": supported,
                "note": note,
                "from": "hand-written",
            }
        )
    with (HERE / "variants.jsonl").open("w", encoding="utf-8") as f:
        for v in out:
            f.write(json.dumps(v, ensure_ascii=False) + "\n")
    print(len(out), "variants;", len(DROP), "dropped")


if __name__ == "__main__":
    main()
