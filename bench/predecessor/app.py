"""A reproduction of the Python predecessor's project list, for benchmarking side by side.

Not the predecessor's code (the repository does not have it): its stack and its list
endpoint as seed 000 describes them — FastAPI 0.109, SQLAlchemy 2.0 ORM over psycopg2
(pool 10 + 20), a python-jose HS256 token, `get_current_user` loading the user per
request, `apply_filters` (status, sort, skip/limit) and the `{data, meta}` response with a
COUNT, i.e. the three statements of bench/pgbench_list.sql — over Launchpad's own tables,
so both serve the same rows. Run by bench/predecessor.sh with 2 uvicorn workers.
"""

import datetime
import os
import uuid
from typing import List, Optional

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jose import JWTError, jwt
from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, Boolean, Column, DateTime, String, Text, create_engine, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Session, declarative_base, sessionmaker

SECRET = os.environ["JWT_SECRET"]
engine = create_engine(
    os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1),
    pool_size=10,
    max_overflow=20,
    pool_timeout=30,
    pool_recycle=3600,
    pool_pre_ping=True,
    connect_args={"connect_timeout": 10, "options": "-c timezone=utc"},
)
SessionLocal = sessionmaker(bind=engine, autoflush=False)
Base = declarative_base()


class Timestamped:
    """The columns every table has (seed 000's soft-delete mixin)."""

    created_at = Column(DateTime(timezone=True))
    updated_at = Column(DateTime(timezone=True))
    deleted_at = Column(DateTime(timezone=True))
    deleted_by = Column(UUID(as_uuid=True))
    delete_batch_id = Column(UUID(as_uuid=True))


class User(Timestamped, Base):
    __tablename__ = "users"
    id = Column(UUID(as_uuid=True), primary_key=True)
    email = Column(String)
    name = Column(String)
    password_hash = Column(String)
    phone = Column(String)
    is_admin = Column(Boolean)
    is_active = Column(Boolean)
    signup_step = Column(String)
    last_login_at = Column(DateTime(timezone=True))


class Project(Timestamped, Base):
    __tablename__ = "projects"
    id = Column(UUID(as_uuid=True), primary_key=True)
    user_id = Column(UUID(as_uuid=True))
    title = Column(String)
    description = Column(Text)
    category = Column(String)
    tech_stack = Column(JSON)
    status = Column(String)
    synopsis_submitted = Column(Boolean)


class ProjectResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    user_id: uuid.UUID
    title: str
    description: Optional[str]
    category: str
    tech_stack: Optional[list]
    status: str
    synopsis_submitted: bool
    created_at: datetime.datetime
    updated_at: datetime.datetime


class Meta(BaseModel):
    total: int
    page: int
    per_page: int
    total_pages: int


class ProjectPage(BaseModel):
    data: List[ProjectResponse]
    meta: Meta


class LoginIn(BaseModel):
    email: str
    password: str


class ProjectIn(BaseModel):
    title: str
    description: Optional[str] = None
    category: str
    tech_stack: Optional[list] = None


class QueryFilters(BaseModel):
    page: int = 1
    per_page: int = 20
    sort_by: Optional[str] = "created_at"
    sort_order: Optional[str] = "desc"
    status: Optional[str] = None


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


bearer = HTTPBearer()


def get_current_user(
    credentials: HTTPAuthorizationCredentials = Depends(bearer), db: Session = Depends(get_db)
) -> User:
    try:
        user_id = jwt.decode(credentials.credentials, SECRET, algorithms=["HS256"])["sub"]
    except (JWTError, KeyError):
        raise HTTPException(status_code=401, detail="Could not validate credentials")
    user = db.query(User).filter(User.id == uuid.UUID(user_id), User.deleted_at.is_(None)).first()
    if user is None or not user.is_active:
        raise HTTPException(status_code=401, detail="Could not validate credentials")
    return user


def apply_filters(query, filters: QueryFilters, model):
    if filters.status:
        query = query.filter(model.status == filters.status)
    column = getattr(model, filters.sort_by)
    if filters.sort_order == "desc":
        query = query.order_by(column.desc(), model.id.desc())
    else:
        query = query.order_by(column.asc(), model.id.asc())
    return query


app = FastAPI()


@app.get("/health")
def health():
    return {"status": "healthy"}


@app.post("/api/auth/login")
def login(body: LoginIn, db: Session = Depends(get_db)):
    user = db.query(User).filter(User.email == body.email, User.deleted_at.is_(None)).first()
    try:
        PasswordHasher().verify(user.password_hash if user else "", body.password)
    except (VerificationError, Exception):
        raise HTTPException(status_code=401, detail="Incorrect email or password")
    expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=30)
    token = jwt.encode({"sub": str(user.id), "exp": expires}, SECRET, algorithm="HS256")
    return {"access_token": token, "token_type": "bearer"}


@app.get("/api/projects", response_model=ProjectPage)
async def get_projects(
    filters: QueryFilters = Depends(),
    current_user: User = Depends(get_current_user),
    db: Session = Depends(get_db),
):
    query = db.query(Project).filter(Project.user_id == current_user.id, Project.deleted_at.is_(None))
    query = apply_filters(query, filters, Project)
    total = query.order_by(None).count()
    per_page = min(filters.per_page, 100)
    projects = query.offset((filters.page - 1) * per_page).limit(per_page).all()
    return ProjectPage(
        data=[ProjectResponse.model_validate(p) for p in projects],
        meta=Meta(total=total, page=filters.page, per_page=per_page,
                  total_pages=(total + per_page - 1) // per_page),
    )


@app.post("/api/projects", status_code=201, response_model=ProjectResponse)
async def create_project(
    body: ProjectIn, current_user: User = Depends(get_current_user), db: Session = Depends(get_db)
):
    now = datetime.datetime.now(datetime.timezone.utc)
    project = Project(id=uuid.uuid4(), user_id=current_user.id, title=body.title,
                      description=body.description, category=body.category,
                      tech_stack=body.tech_stack, status="idea_pending",
                      synopsis_submitted=False, created_at=now, updated_at=now)
    db.add(project)
    db.commit()
    db.refresh(project)
    return ProjectResponse.model_validate(project)
