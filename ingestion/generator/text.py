"""Text the world speaks and writes: interview questions and answers (English, Chinese), and resumes (ASCII).

Answers come from two banks: neutral sentences, which contain no customer-care term, and care sentences, which
contain at least one (vocab.CARE_LEXICON). A candidate with the planted care trait says a care sentence at least
once; a candidate without it never does, so the keyword feature is exactly the planted trait.
"""

from __future__ import annotations

import numpy as np

from ingestion.generator.vocab import COMPETENCIES

QUESTIONS = {
    "en": (
        "Please describe a time you had to explain something complicated to someone.",
        "Walk us through how you would work out why a monthly report shows the wrong total.",
        "Tell us about a time you worked with a team towards a difficult goal.",
        "Describe a problem at work you solved that others had given up on.",
        "Tell us about a time you helped a customer who was unhappy with a service.",
        "What is something new you learned recently, and how did you learn it?",
    ),
    "zh": (
        "请描述一次你需要向别人解释复杂事情的经历。",
        "如果月度报表的总数不对，你会如何找出原因？",
        "请讲一次你和团队一起完成困难目标的经历。",
        "请描述一个你在工作中解决的、别人已经放弃的问题。",
        "请讲一次你帮助对服务不满意的客户的经历。",
        "你最近学到的新东西是什么？你是怎么学的？",
    ),
}
INTRO = {
    "en": "Welcome to your video interview. You will see six questions and have up to three minutes for each.",
    "zh": "欢迎参加视频面试。共有六个问题，每个问题最多回答三分钟。",
}
OUTRO = {"en": "Thank you, your interview is complete.", "zh": "谢谢，面试已完成。"}

# Neutral answers per competency: none contains a CARE_LEXICON term (a unit test checks this).
NEUTRAL = {
    "en": {
        "communication": (
            "I started with the goal and then explained each step in plain words.",
            "I drew a simple diagram so the whole group could follow along.",
            "I asked them to repeat the plan back to me to be sure it was clear.",
            "I wrote a short summary afterwards so nobody had to rely on memory.",
            "I avoided jargon and used an example from their own work.",
        ),
        "logical_thinking": (
            "First I would check whether the inputs were complete for the month.",
            "Then I would compare the total with the sum of the daily figures.",
            "If they differ, the error is in the aggregation step, so I would look there.",
            "I would rule out each cause one at a time instead of guessing.",
            "I usually write down my assumptions so I can test each of them.",
        ),
        "teamwork": (
            "We split the work by strengths and met every morning for ten minutes.",
            "When two colleagues disagreed I set up a meeting to find common ground.",
            "I took on the testing work so the others could focus on the design.",
            "We celebrated small wins, which kept the group motivated.",
            "I made sure everyone knew who owned which task.",
        ),
        "problem_solving": (
            "I broke the problem into smaller parts and tested each one.",
            "The root cause turned out to be a setting that nobody had documented.",
            "I tried a quick workaround first and then fixed the underlying issue.",
            "I looked at the data from the last six months to find a pattern.",
            "After the fix I added a check so it would not happen again.",
        ),
        "customer_orientation": (
            "I made sure the person knew exactly what would happen next.",
            "I followed up the next day to confirm the issue was solved.",
            "I explained the options and let them choose what suited them.",
            "I took ownership instead of passing the case to another team.",
            "I kept my promise to call back before the end of the day.",
        ),
        "learning_agility": (
            "I took an online course in the evenings and practised on small projects.",
            "I asked a senior colleague to review my first attempts.",
            "I read the documentation and built a small prototype to test my understanding.",
            "I keep a list of things I want to learn and pick one each quarter.",
            "Learning from mistakes quickly is something I work on every week.",
        ),
    },
    "zh": {
        "communication": (
            "我先说明目标，然后用简单的话解释每一步。",
            "我画了一张简单的图，让大家都能看明白。",
            "我请对方把计划复述一遍，确认已经讲清楚。",
            "事后我写了一份简短的总结发给大家。",
        ),
        "logical_thinking": (
            "首先我会检查当月的数据是否完整。",
            "然后把总数和每天的数字加起来比较。",
            "如果不一致，问题就在汇总环节，我会重点查那里。",
            "我会逐一排除可能的原因，而不是凭感觉猜。",
        ),
        "teamwork": (
            "我们按各自的长处分工，每天早上开十分钟的会。",
            "两位同事意见不同时，我组织大家一起找共同点。",
            "我主动承担了测试工作，让其他人专注于设计。",
            "我确保每个人都清楚自己负责哪项任务。",
        ),
        "problem_solving": (
            "我把问题拆成几个小部分，逐个验证。",
            "最后发现根本原因是一个没人记录过的配置。",
            "我先用临时方案应急，然后修复了根本问题。",
            "修复之后我加了一个检查，避免再次发生。",
        ),
        "customer_orientation": (
            "我让对方清楚地知道接下来会发生什么。",
            "第二天我又跟进了一次，确认问题已经解决。",
            "我解释了几种方案，让对方选择最合适的。",
            "我主动负责到底，没有把问题推给别的团队。",
        ),
        "learning_agility": (
            "我晚上参加了网课，并在小项目上练习。",
            "我请资深同事帮我检查最初的尝试。",
            "我阅读文档并做了一个小原型来验证理解。",
            "我每个季度都会选一项新技能来学习。",
        ),
    },
}
# Care answers: each contains at least one CARE_LEXICON term.
CARE = {
    "en": (
        "The most important thing is to listen to the customer before offering a solution.",
        "I try to show empathy, because an upset customer mostly wants to be heard.",
        "Patience matters a lot when a customer calls for the third time.",
        "I measure my work by customer satisfaction, not by how fast I close a case.",
        "I always listen carefully and repeat back what the customer needs.",
    ),
    "zh": (
        "最重要的是先倾听客户的想法，再给出方案。",
        "我会保持耐心，因为不满意的客户最需要被理解。",
        "我觉得同理心很重要，要站在客户的角度考虑问题。",
        "我用客户满意度来衡量自己的工作。",
    ),
}


def bank_array(options: tuple[str, ...]) -> np.ndarray:
    return np.asarray(options, dtype=object)


def neutral_banks(language: str) -> list[np.ndarray]:
    """Neutral answer sentences per competency, in COMPETENCIES order."""
    return [bank_array(NEUTRAL[language][c]) for c in COMPETENCIES]


SKILLS = {
    "software_engineering": (
        "Python",
        "Java",
        "SQL",
        "Go",
        "Kubernetes",
        "Docker",
        "AWS",
        "Git",
        "React",
        "TypeScript",
        "Spark",
        "Terraform",
        "Linux",
        "CI/CD",
        "PostgreSQL",
        "REST APIs",
    ),
    "customer_service": (
        "Zendesk",
        "Salesforce Service Cloud",
        "Live chat",
        "Ticket triage",
        "Conflict resolution",
        "CRM",
        "Call handling",
        "Knowledge base writing",
        "Microsoft Office",
        "Bilingual support",
        "Escalation management",
    ),
    "sales": (
        "Salesforce",
        "HubSpot",
        "Prospecting",
        "Cold calling",
        "Negotiation",
        "Pipeline management",
        "Account planning",
        "Forecasting",
        "Contract renewal",
        "Product demos",
        "LinkedIn Sales Navigator",
    ),
    "operations": (
        "Excel",
        "SAP",
        "Lean",
        "Six Sigma",
        "Inventory control",
        "Scheduling",
        "Process mapping",
        "Power BI",
        "Vendor management",
        "Logistics planning",
        "Root cause analysis",
    ),
    "finance_risk": (
        "Excel",
        "SQL",
        "Credit analysis",
        "Financial modelling",
        "IFRS",
        "Basel III",
        "SAS",
        "Python",
        "VBA",
        "Stress testing",
        "Regulatory reporting",
        "Tableau",
    ),
}
GENERIC_SKILLS = ("Project management", "Public speaking", "Leadership", "Agile", "Data analysis", "Mentoring")
DEGREES = {
    "high_school": "High school diploma",
    "associate": "Associate degree",
    "bachelor": "Bachelor's degree",
    "master": "Master's degree",
    "phd": "PhD",
}
FIELDS = {
    "software_engineering": "Computer Science",
    "customer_service": "Communication Studies",
    "sales": "Business Administration",
    "operations": "Industrial Engineering",
    "finance_risk": "Finance",
}
SUMMARIES = {
    "software_engineering": "Software engineer",
    "customer_service": "Customer support professional",
    "sales": "Sales professional",
    "operations": "Operations specialist",
    "finance_risk": "Finance and risk analyst",
}
COMPANIES = ("Northwind Traders", "Contoso Ltd", "Fabrikam Inc", "Globex", "Initech", "Umbrella Retail", "Acme Corp")
UNIVERSITIES = ("State University", "City College", "Institute of Technology", "National University")


def resume_text(
    name: str,
    email: str,
    phone: str,
    family: str,
    title: str,
    years: int,
    education: str,
    skills: list[str],
    company: str,
    university: str,
    end_year: int,
) -> str:
    """A plain ASCII resume with the sections a parser looks for: summary, education, experience, skills."""
    start_year = end_year - max(years, 1)
    return (
        f"{name}\n{email} | {phone}\n\n"
        f"SUMMARY\n{SUMMARIES[family]} with {years} years of experience.\n\n"
        f"EDUCATION\n{DEGREES[education]}, {FIELDS[family]}, {university}\n\n"
        f"EXPERIENCE\n{title}, {company} ({start_year}-{end_year})\n\n"
        f"SKILLS\n{', '.join(skills)}\n"
    )
