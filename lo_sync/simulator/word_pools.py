"""The words generated records are made of, chosen for the awkward parts of real feeds.

Unicode and emoji in titles, HTML and typographic dashes in descriptions, names
with apostrophes, accents and CJK characters: what a connector meets in the wild
and must store unchanged.
"""

from __future__ import annotations

# (language, titles, slug bases). Titles are whole so each language reads naturally.
TITLES: dict[str, tuple[tuple[str, str], ...]] = {
    "en": (
        ("Introduction to Machine Learning", "intro-machine-learning"),
        ("Data Visualization with Python", "data-visualization-python"),
        ("Project Management Foundations", "project-management-foundations"),
        ("Financial Accounting Essentials", "financial-accounting"),
        ("Cloud Computing Basics", "cloud-computing-basics"),
        ("Public Speaking: Find Your Voice", "public-speaking"),
        ("Cybersecurity for Everyone", "cybersecurity-everyone"),
        ("UX Design Fundamentals", "ux-design-fundamentals"),
        ("Supply Chain Analytics", "supply-chain-analytics"),
        ("Negotiation Skills", "negotiation-skills"),
        ("SQL for Data Science", "sql-data-science"),
        ("Digital Marketing Strategy", "digital-marketing-strategy"),
        ("Leading People and Teams", "leading-people-teams"),
        ("Agile Development with Scrum", "agile-scrum"),
        ("Statistics with R", "statistics-with-r"),
        ("Deep Learning Specialization", "deep-learning"),
        ("Business Writing", "business-writing"),
        ("HTML, CSS & <canvas> Basics", "html-css-canvas"),
        ("R & Python for Analysts", "r-python-analysts"),
        ("AI For Everyone 🤖", "ai-for-everyone"),
    ),
    "fr": (
        ("Initiez-vous à la gestion de projet", "gestion-de-projet"),
        ("Découvrez l'écoconception numérique", "ecoconception-numerique"),
        ("Maîtrisez les réseaux TCP/IP", "reseaux-tcp-ip"),
        ("Apprenez à programmer en Python", "programmer-en-python"),
        ("Négociez avec succès", "negociez-avec-succes"),
        ("Améliorez votre communication écrite ✍️", "communication-ecrite"),
        ("Analysez des données avec Excel", "donnees-excel"),
    ),
    "es": (
        ("Gestión de proyectos ágiles", "proyectos-agiles"),
        ("Introducción a la ciencia de datos", "ciencia-de-datos"),
    ),
    "pt-BR": (("Introdução à Ciência de Dados", "ciencia-dados-intro"),),
    "de": (("Ökonomie für Einsteiger", "oekonomie-einsteiger"),),
    "ja": (
        ("データサイエンス入門", "data-science-nyumon"),
        ("機械学習の基礎", "kikai-gakushu-kiso"),
    ),
    "zh-CN": (
        ("数据结构与算法", "data-structures-algorithms-zh"),
        ("商务沟通技巧 📈", "business-communication-zh"),
    ),
    "ko": (("인공지능 개론", "ai-gaeron"),),
}

DESCRIPTION_BLURBS = (
    "Learn the essentials step by step, with hands-on exercises.",
    "Des cas pratiques tirés d'entreprises réelles — et un quiz à la fin.",
    "Ideal for busy professionals: 2–4 hours per week.",
    "このコースでは基礎から実践までを学びます。",
    "Includes peer-graded assignments & a final project.",
)
MODULES_HTML = "<ul><li>Module 1 – basics</li><li>Module 2 – <em>practice</em></li></ul>"
SKILLS = (
    "Python Programming",
    "Data Analysis",
    "Leadership",
    "Communication",
    "SQL",
    "Machine Learning",
    "Project Management",
    "Négociation",
    "Cloud Computing",
    "Statistics",
)
PARTNERS = (
    ("Stanford University", "stanford"),
    ("École Polytechnique", "polytechnique"),
    ("University of Tokyo", "utokyo"),
    ("Google Cloud", "google-cloud"),
    ("Universidad de los Andes", "uniandes"),
    ("IBM", "ibm"),
)
FIRST_NAMES = (
    "Alice",
    "Zoë",
    "José",
    "Łukasz",
    "Ngọc",
    "Søren",
    "Amélie",
    "Mohammed",
    "Priya",
    "Kenji",
    "Chloé",
    "Seán",
)
LAST_NAMES = (
    "Martin",
    "Núñez",
    "O'Brien",
    "Müller",
    "陈",
    "Nakamura",
    "Kowalski",
    "Dubois-Lefèvre",
    "Singh",
    "Van der Berg",
)
INSTRUCTOR_TITLES = (
    "Professor",
    "Associate Professor",
    "Senior Engineer",
    "Maître de conférences",
)
